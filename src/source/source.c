/*
 * source.c - the page-source interface (next, cancel, destroy) and the operator's fault
 * messages in English and Vietnamese. The file source is files.c, the SANE source sane.c.
 * Nothing here prints: the CLI shows the messages and asks the operator what to do.
 */
#include <stdio.h>
#include <string.h>

#include "phieu/alloc.h"
#include "phieu/util.h"
#include "source/source_internal.h"

int phieu_source_next(phieu_source *s, phieu_image **page, phieu_page_info *info,
                      phieu_error *err)
{
    if (!s || !page || !info)
        return phieu_error_set(err, PHIEU_EINVAL, "phieu_source_next: missing argument");
    *page = NULL;
    s->fault = PHIEU_FAULT_NONE;
    return s->ops->next(s, page, info, err);
}

phieu_source_fault phieu_source_last_fault(const phieu_source *s)
{
    return s ? s->fault : PHIEU_FAULT_NONE;
}

void phieu_source_cancel(phieu_source *s)
{
    if (s && s->ops->cancel)
        s->ops->cancel(s);
}

void phieu_source_destroy(phieu_source **s)
{
    if (!s || !*s)
        return;
    (*s)->ops->destroy(*s);
    phieu_free(*s);
    *s = NULL;
}

int phieu_source_take(phieu_source *s, phieu_source_item *item, phieu_error *err)
{
    if (!s || !item)
        return phieu_error_set(err, PHIEU_EINVAL, "phieu_source_take: missing argument");
    memset(item, 0, sizeof *item);
    s->fault = PHIEU_FAULT_NONE;
    if (s->ops->take)
        return s->ops->take(s, item, err);
    return s->ops->next(s, &item->image, &item->info, err);
}

/* Decodes the first page of an opened reader (rc: of its opening) into item->image,
 * reusing *spare; a page that does not decode makes the item unreadable (0 returned). */
static int decode_reader(phieu_source_item *item, phieu_image_reader *r, int rc,
                         phieu_error *why, phieu_image **spare, phieu_error *err)
{
    phieu_image *img = spare ? *spare : NULL;
    if (spare)
        *spare = NULL;
    if (rc == 0) {
        rc = phieu_image_reader_next_reusing(r, &img, why);
        if (rc == 0)
            rc = phieu_error_set(why, PHIEU_EFORMAT, "'%s' holds no image", item->path);
    }
    phieu_image_reader_close(&r);
    if (rc < 0) { /* img is the spare given, or NULL */
        if (spare)
            *spare = img;
        else
            phieu_image_destroy(&img);
    } else {
        item->image = img;
    }
    if (rc == PHIEU_ENOMEM) {
        *err = *why;
        return rc;
    }
    if (rc < 0) {
        item->unreadable = 1;
        snprintf(item->what, sizeof item->what, "%s", why->message);
        return 0;
    }
    phieu_image *page = item->image;
    phieu_page_info *info = &item->info;
    info->bytes_announced = info->bytes_received = (uint64_t)page->width * (uint64_t)page->height;
    info->dpi = page->dpi_y;
    info->length_mm = info->dpi > 0 ? page->height / info->dpi * 25.4 : 0;
    info->sane_format = -1;
    info->depth = 8;
    info->frames = 1;
    return 0;
}

/* A colour scan: its RGB PNG (to archive), then its gray in the RGB's own memory. */
static int decode_rgb(phieu_source_item *item, phieu_image **spare, phieu_error *err)
{
    if (spare) /* the gray is made in the RGB's memory */
        phieu_image_destroy(spare);
    int rc = phieu_rgb_encode_png(item->rgb, item->rgb_width, item->rgb_height, item->info.dpi,
                                  &item->bytes, &item->len, err);
    if (rc == 0)
        rc = phieu_image_of_rgb(&item->rgb, item->rgb_width, item->rgb_height, item->info.dpi,
                                &item->image, err);
    return rc;
}

/* A pending page of a multi-page file: the file mapped, the pages before passed over
 * (their directories only), the page decoded into *spare's memory. A page that does not
 * decode makes the item unreadable with the whole file as its bytes, as the source does
 * for a file that fails on the feeding thread. */
static int decode_pending_page(phieu_source_item *item, phieu_image **spare, phieu_error *err)
{
    item->page_pending = 0;
    phieu_image_reader *r = NULL;
    phieu_error why = {0};
    int rc = phieu_image_reader_open(item->path, &item->limits, &r, &why);
    for (int k = 1; rc >= 0 && k < item->page_in_file; k++) {
        rc = phieu_image_reader_skip(r, &why);
        if (rc == 0)
            rc = phieu_error_set(&why, PHIEU_EFORMAT, "'%s' has no page %d any more",
                                 item->path, item->page_in_file);
    }
    if (rc > 0)
        rc = 0;
    rc = decode_reader(item, r, rc, &why, spare, err);
    if (rc < 0 || !item->unreadable)
        return rc;
    rc = phieu_read_file(item->path, item->limits.max_bytes, &item->bytes, &item->len, err);
    return rc < 0 ? phieu_error_prefix(err, "'%s': ", item->path) : 0;
}

int phieu_source_item_decode(phieu_source_item *item, const phieu_image_limits *limits,
                             phieu_image **spare, phieu_error *err)
{
    if (item->rgb && !item->image)
        return decode_rgb(item, spare, err);
    if (item->page_pending && !item->image && !item->unreadable && !item->bytes)
        return decode_pending_page(item, spare, err);
    if (!item->image && !item->unreadable && !item->bytes && item->max_bytes > 0) {
        int rc = phieu_read_file(item->path, item->max_bytes, &item->bytes, &item->len, err);
        item->max_bytes = 0;
        if (rc < 0)
            return phieu_error_prefix(err, "'%s': ", item->path);
    }
    if (item->image || item->unreadable || !item->bytes)
        return 0;
    phieu_image_limits lim = limits ? *limits : phieu_image_default_limits();
    phieu_image_reader *r = NULL;
    phieu_error why = {0};
    int rc = phieu_image_reader_open_memory(item->bytes, item->len, item->path, &lim, &r, &why);
    return decode_reader(item, r, rc, &why, spare, err);
}

/* The decoders name the file they read, here the archive's copy, which means nothing to
 * the operator: the message names the file given instead. */
static void rename_in_message(char *msg, size_t size, const char *copy, const char *path)
{
    char *at = strstr(msg, copy);
    if (!at)
        return;
    char tail[PHIEU_ERROR_MESSAGE_MAX];
    snprintf(tail, sizeof tail, "%s", at + strlen(copy));
    snprintf(at, size - (size_t)(at - msg), "%s%s", path, tail);
}

int phieu_source_item_decode_copy(phieu_source_item *item, const char *copy,
                                  const phieu_image_limits *limits, phieu_image **spare,
                                  phieu_error *err)
{
    if (item->image || item->unreadable || item->bytes)
        return phieu_error_set(err, PHIEU_EINVAL, "'%s' is decoded already", item->path);
    item->max_bytes = 0;
    phieu_image_limits lim = limits ? *limits : phieu_image_default_limits();
    phieu_image_reader *r = NULL;
    phieu_error why = {0};
    int rc = phieu_image_reader_open(copy, &lim, &r, &why);
    rc = decode_reader(item, r, rc, &why, spare, err);
    if (item->unreadable)
        rename_in_message(item->what, sizeof item->what, copy, item->path);
    return rc;
}

void phieu_source_item_release(phieu_source_item *item)
{
    if (!item)
        return;
    phieu_image_destroy(&item->image);
    phieu_free(item->rgb);
    item->rgb = NULL;
    phieu_free(item->bytes);
    item->bytes = NULL;
    item->len = 0;
}

int phieu_source_pages_expected(const phieu_source *s)
{
    return s && s->ops->pages_expected ? s->ops->pages_expected(s) : 0;
}

int phieu_source_fault_error(phieu_error *err, phieu_source_fault fault, const char *device,
                             int sheet, const char *detail)
{
    const char *dev = device && *device ? device : "scanner";
    const char *why = detail && *detail ? detail : "";
    const char *sep = *why ? ": " : "";
    switch (fault) {
    case PHIEU_FAULT_EMPTY:
        return phieu_error_set(err, PHIEU_EDEVICE,
                               "no paper in the feeder of '%s': put the ballots in the feeder "
                               "and continue / Khay nạp giấy trống: đặt phiếu vào khay nạp "
                               "rồi tiếp tục",
                               dev);
    case PHIEU_FAULT_BUSY:
        return phieu_error_set(err, PHIEU_EDEVICE,
                               "scanner '%s' is busy%s%s: close the other program that uses it "
                               "and run the command again / Máy quét đang bận (một chương "
                               "trình khác đang dùng): đóng chương trình đó rồi chạy lại lệnh",
                               dev, sep, why);
    case PHIEU_FAULT_JAM:
        return phieu_error_set(err, PHIEU_EDEVICE,
                               "paper jam in '%s' at sheet %d of the batch: take that sheet "
                               "out, smooth it, put it back on top of the feeder and continue "
                               "/ Kẹt giấy ở tờ thứ %d của đợt quét: lấy tờ đó ra, vuốt phẳng, "
                               "đặt lại lên trên cùng khay nạp rồi tiếp tục",
                               dev, sheet, sheet);
    case PHIEU_FAULT_COVER_OPEN:
        return phieu_error_set(err, PHIEU_EDEVICE,
                               "the cover of '%s' is open at sheet %d of the batch: close it, "
                               "put sheet %d back on top of the feeder and continue / Nắp máy "
                               "quét đang mở ở tờ thứ %d: đóng nắp, đặt lại tờ thứ %d lên trên "
                               "cùng khay nạp rồi tiếp tục",
                               dev, sheet, sheet, sheet, sheet);
    case PHIEU_FAULT_IO:
        return phieu_error_set(err, PHIEU_EDEVICE,
                               "scanner '%s' failed at sheet %d of the batch%s%s: check its "
                               "cable and power, put sheet %d back on top of the feeder and "
                               "continue / Lỗi máy quét ở tờ thứ %d: kiểm tra cáp và nguồn "
                               "điện, đặt lại tờ thứ %d lên trên cùng khay nạp rồi tiếp tục",
                               dev, sheet, sep, why, sheet, sheet, sheet);
    case PHIEU_FAULT_SHORT_PAGE:
        return phieu_error_set(err, PHIEU_EDEVICE,
                               "incomplete page from '%s' at sheet %d of the batch (%s), "
                               "discarded: put sheet %d back on top of the feeder and continue "
                               "/ Trang của tờ thứ %d bị thiếu dữ liệu nên đã bỏ: đặt lại tờ "
                               "thứ %d lên trên cùng khay nạp rồi tiếp tục",
                               dev, sheet, why, sheet, sheet, sheet);
    case PHIEU_FAULT_CANCELLED:
        return phieu_error_set(err, PHIEU_EDEVICE,
                               "scanning stopped on '%s' at sheet %d of the batch, page "
                               "discarded: put sheet %d back on top of the feeder to scan it "
                               "/ Đã dừng quét ở tờ thứ %d, trang đó đã bỏ: đặt lại tờ thứ %d "
                               "lên trên cùng khay nạp để quét lại",
                               dev, sheet, sheet, sheet, sheet);
    default:
        return phieu_error_set(err, PHIEU_EDEVICE,
                               "scanner '%s' failed at sheet %d of the batch%s%s: put sheet %d "
                               "back on top of the feeder and continue / Máy quét báo lỗi ở tờ "
                               "thứ %d: đặt lại tờ thứ %d lên trên cùng khay nạp rồi tiếp tục",
                               dev, sheet, sep, why, sheet, sheet, sheet);
    }
}
