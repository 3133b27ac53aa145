/*
 * picture.c - a sheet's archived page as a person is shown it (include/phieu/picture.h):
 * decoded as stored, colour or gray, then scaled or cut to a row, then PNG.
 */
#include "phieu/picture.h"

#include <string.h>

#include "phieu/alloc.h"
#include "phieu/image.h"

/* A page in colour or in gray, as the archive holds it: exactly one of the two is set. */
typedef struct shown_page {
    phieu_image *gray;
    phieu_rgb_image *rgb;
} shown_page;

struct phieu_picture {
    shown_page page;
};

static void shown_release(shown_page *p)
{
    phieu_image_destroy(&p->gray);
    phieu_rgb_image_destroy(&p->rgb);
}

static int shown_fit(const shown_page *p, int max_w, int max_h, shown_page *out, phieu_error *err)
{
    if (p->rgb)
        return phieu_rgb_image_scale_to_fit(p->rgb, max_w, max_h, &out->rgb, err);
    return phieu_image_scale_to_fit(p->gray, max_w, max_h, &out->gray, err);
}

static int shown_crop(const shown_page *p, const double box[4], shown_page *out, phieu_error *err)
{
    int x = (int)box[0], y = (int)box[1];
    int w = (int)(box[2] - box[0] + 1), h = (int)(box[3] - box[1] + 1);
    if (p->rgb)
        return phieu_rgb_image_crop(p->rgb, x, y, w, h, &out->rgb, err);
    return phieu_image_crop(p->gray, x, y, w, h, &out->gray, err);
}

static int shown_encode(const shown_page *p, uint8_t **png, size_t *len, phieu_error *err)
{
    if (p->rgb)
        return phieu_rgb_image_encode_png(p->rgb, png, len, err);
    return phieu_image_encode_png(p->gray, png, len, err);
}

int phieu_picture_placed(const phieu_reading *r)
{
    return r && r->form_index >= 0 && r->transform[8] != 0;
}

void phieu_picture_box(const double t[9], phieu_rect rect, double margin, double box[4])
{
    double xs[2] = {rect.x - margin, rect.x + rect.w + margin};
    double ys[2] = {rect.y - margin, rect.y + rect.h + margin};
    box[0] = box[1] = 1e300;
    box[2] = box[3] = -1e300;
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < 2; k++) {
            double w = t[6] * xs[i] + t[7] * ys[k] + t[8];
            w = w == 0 ? 1e-12 : w;
            double px = (t[0] * xs[i] + t[1] * ys[k] + t[2]) / w;
            double py = (t[3] * xs[i] + t[4] * ys[k] + t[5]) / w;
            box[0] = px < box[0] ? px : box[0];
            box[1] = py < box[1] ? py : box[1];
            box[2] = px > box[2] ? px : box[2];
            box[3] = py > box[3] ? py : box[3];
        }
}

/* Row `row`'s choice boxes, edge to edge of their columns and PHIEU_PICTURE_ROW_MARGIN_MM
 * above and below
 * its band, cut from the page (clipped to it). */
static int cut_row(const shown_page *page, const phieu_layout *lay, const phieu_reading *r,
                   const phieu_picture_ask *ask, shown_page *out, phieu_error *err)
{
    if (!lay || !phieu_picture_placed(r) || ask->row > lay->n_rows)
        return phieu_error_set(err, PHIEU_ENOTFOUND,
                               "row %d of this page cannot be shown: the page was not placed "
                               "on its form",
                               ask->row);
    phieu_rect band = lay->rows[ask->row - 1];
    phieu_rect boxes = {lay->column_x[3], band.y - PHIEU_PICTURE_ROW_MARGIN_MM,
                        lay->column_x[3 + lay->n_choices] - lay->column_x[3],
                        band.h + 2 * PHIEU_PICTURE_ROW_MARGIN_MM};
    double box[4];
    phieu_picture_box(r->transform, boxes, 0, box);
    int rc = shown_crop(page, box, out, err);
    if (rc == PHIEU_EINVAL) /* the page was cut short by the scan */
        rc = phieu_error_set(err, PHIEU_ENOTFOUND,
                             "row %d lies outside the scanned image: look at the whole page",
                             ask->row);
    return rc;
}

int phieu_picture_load(const char *path, phieu_picture **out, int page_size[2],
                       phieu_error *err)
{
    *out = NULL;
    phieu_picture *p = phieu_calloc(1, sizeof *p);
    if (!p)
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory showing a page");
    phieu_image_limits lim = phieu_image_default_limits();
    int rc = phieu_image_load_as_stored(path, 0, &lim, &p->page.gray, &p->page.rgb, err);
    if (rc != 0) {
        phieu_free(p);
        return rc;
    }
    if (page_size) {
        page_size[0] = p->page.gray ? p->page.gray->width : p->page.rgb->width;
        page_size[1] = p->page.gray ? p->page.gray->height : p->page.rgb->height;
    }
    *out = p;
    return 0;
}

void phieu_picture_destroy(phieu_picture **p)
{
    if (p && *p) {
        shown_release(&(*p)->page);
        phieu_free(*p);
        *p = NULL;
    }
}

int phieu_picture_png(const phieu_picture *p, const phieu_layout *layout, const phieu_reading *r,
                      const phieu_picture_ask *ask, uint8_t **png, size_t *len, phieu_error *err)
{
    *png = NULL;
    *len = 0;
    shown_page cut = {0}, fit = {0};
    int rc = ask->row > 0 ? cut_row(&p->page, layout, r, ask, &cut, err) : 0;
    const shown_page *shown = ask->row > 0 ? &cut : &p->page;
    if (rc == 0 && ask->max_w > 0 && ask->max_h > 0) {
        rc = shown_fit(shown, ask->max_w, ask->max_h, &fit, err);
        shown = &fit;
    }
    if (rc == 0)
        rc = shown_encode(shown, png, len, err);
    shown_release(&cut);
    shown_release(&fit);
    return rc;
}
