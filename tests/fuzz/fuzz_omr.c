/*
 * fuzz_omr.c - the reader on arbitrary small images: any bytes become a gray page (raw
 * pixels, or dark rectangles on white paper so that fiducial-like shapes, codes and marks
 * appear), and phieu_omr_read must return a reading or an error, never crash or hang;
 * the JSON of every reading must be well formed enough to end in '}'.
 * Byte 0: bit 0 chooses raw (1) or rectangles (0); bits 1-2 a dpi tag (none, 40, 72, 300).
 * Bytes 1-2: width, 3-4: height (both capped so a run stays fast).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phieu/alloc.h"
#include "phieu/form.h"
#include "phieu/image.h"
#include "phieu/omr.h"
#include "phieu/util.h"

static const char form_text[] = "id: fuzz-rating\n"
                                "kind: rating\n"
                                "council: HỘI ĐỒNG NHÂN DÂN XÃ THỬ\n"
                                "session: Kỳ họp thứ Nhất\n"
                                "title: PHIẾU LẤY PHIẾU TÍN NHIỆM\n"
                                "instruction: Đánh dấu X vào một ô\n"
                                "row:\n"
                                "  name: Nguyễn Văn An\n"
                                "  post: Chủ tịch\n"
                                "row:\n"
                                "  name: Trần Thị Bình\n"
                                "  post: Phó Chủ tịch\n";

/* Pages up to A4 at about 60 dpi: big enough for every code path, small enough to run
 * thousands of inputs a second. */
#define FUZZ_MAX_W 500
#define FUZZ_MAX_H 700

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static phieu_form *form;
    static phieu_layout layout;
    if (!form) {
        phieu_error err = {0};
        if (phieu_form_parse(form_text, strlen(form_text), "fuzz.form", &form, &err) != 0 ||
            phieu_layout_compute(form, &layout, &err) != 0) {
            fprintf(stderr, "fuzz_omr: %s\n", err.message);
            abort();
        }
    }
    if (size < 5)
        return 0;
    int raw = data[0] & 1;
    static const double dpis[4] = {0, 40, 72, 300};
    int w = 1 + (data[1] | data[2] << 8) % FUZZ_MAX_W;
    int h = 1 + (data[3] | data[4] << 8) % FUZZ_MAX_H;
    const uint8_t *p = data + 5;
    size_t n = size - 5;
    phieu_image *img = NULL;
    phieu_error err = {0};
    if (phieu_image_create(w, h, &img, &err) != 0)
        return 0;
    img->dpi_x = img->dpi_y = dpis[(data[0] >> 1) & 3];
    if (raw) {
        for (int y = 0; y < h && n > 0; y++)
            for (int x = 0; x < w; x++)
                img->pixels[(size_t)y * img->stride + x] = p[((size_t)y * w + x) % n];
    } else {
        /* Each 5 bytes: a rectangle at (x, y) of size (rw, rh) in 1/256 of the page, gray. */
        for (size_t k = 0; k + 5 <= n; k += 5) {
            int x0 = p[k] * w / 256, y0 = p[k + 1] * h / 256;
            int x1 = x0 + 1 + p[k + 2] * w / 1024, y1 = y0 + 1 + p[k + 3] * h / 1024;
            for (int y = y0; y < y1 && y < h; y++)
                for (int x = x0; x < x1 && x < w; x++)
                    img->pixels[(size_t)y * img->stride + x] = p[k + 4];
        }
    }
    const phieu_form *forms[1] = {form};
    phieu_omr_config cfg = {.forms = forms, .layouts = &layout, .n_forms = 1};
    phieu_thresholds_default(&cfg.thresholds);
    phieu_reading rd;
    if (phieu_omr_read(&cfg, img, &rd, &err) == 0) {
        if (rd.status < PHIEU_PAGE_COUNTED || rd.status > PHIEU_PAGE_BLANK)
            abort();
        phieu_buf b;
        phieu_buf_init(&b);
        phieu_omr_reading_json(&rd, rd.form_index >= 0 ? form : NULL, &b);
        if (!b.failed && (b.len == 0 || b.data[b.len - 1] != '}'))
            abort();
        phieu_buf_release(&b);
        (void)phieu_omr_ink_similarity(&rd, &rd);
    }
    phieu_image_destroy(&img);
    return 0;
}
