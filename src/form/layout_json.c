/*
 * layout_json.c - the layout as the JSON of `phieu form layout --json`, a contract other
 * tools read (docs/forms.md; keys pinned by tests/e2e/json_contracts.sh). The geometry
 * itself is computed in layout.c; the command that prints it is src/cli/cmd_form.c.
 *
 * Functions: phieu_layout_json.
 */
#include <jansson.h>
#include <stdlib.h>

#include "form/form_internal.h"
#include "phieu/util.h"

/* Millimetres rounded to 1/1000 mm, so that the JSON shows 62.1, not 62.100000000000001. */
static json_t *mm(double v)
{
    long long milli = (long long)(v * 1000.0 + (v < 0 ? -0.5 : 0.5));
    if (milli % 1000 == 0)
        return json_integer(milli / 1000);
    return json_real((double)milli / 1000.0);
}

static json_t *rect_json(phieu_rect r)
{
    json_t *o = json_object();
    json_object_set_new(o, "x_mm", mm(r.x));
    json_object_set_new(o, "y_mm", mm(r.y));
    json_object_set_new(o, "w_mm", mm(r.w));
    json_object_set_new(o, "h_mm", mm(r.h));
    return o;
}

/* The four corner marks, the bottom-right one with its hole. */
static json_t *fiducials_json(const phieu_layout *l)
{
    json_t *fids = json_array();
    static const char *const corner[4] = {"top-left", "top-right", "bottom-right", "bottom-left"};
    for (int i = 0; i < 4; i++) {
        json_t *o = rect_json(l->fiducials[i]);
        json_object_set_new(o, "corner", json_string(corner[i]));
        if (i == PHIEU_FID_BR)
            json_object_set_new(o, "hole", rect_json(l->fiducial_hole));
        json_array_append_new(fids, o);
    }
    return fids;
}

/* Each row: number, name, post, its band and its boxes, one a choice. */
static json_t *rows_json(const phieu_form *form, const phieu_layout *l)
{
    json_t *rows = json_array();
    for (int r = 0; r < l->n_rows; r++) {
        json_t *o = json_object();
        json_object_set_new(o, "row", json_integer(form->rows[r].number));
        json_object_set_new(o, "name", json_string(form->rows[r].name));
        json_object_set_new(o, "post", json_string(form->rows[r].post));
        json_object_set_new(o, "band", rect_json(l->rows[r]));
        json_t *boxes = json_array();
        for (int c = 0; c < l->n_choices; c++) {
            json_t *b = rect_json(l->boxes[r][c]);
            json_object_set_new(b, "choice", json_string(form->choices[c].key));
            json_array_append_new(boxes, b);
        }
        json_object_set_new(o, "boxes", boxes);
        json_array_append_new(rows, o);
    }
    return rows;
}

/* The form code: its start and end marks, cells, printed text, and the bits of an
 * official and of a test ballot. */
static json_t *code_json(const phieu_form *form, const phieu_layout *l)
{
    json_t *code = json_object();
    json_object_set_new(code, "start", rect_json(l->code_start));
    json_object_set_new(code, "end", rect_json(l->code_end));
    json_t *cells = json_array();
    for (int i = 0; i < PHIEU_FORM_CODE_BITS; i++)
        json_array_append_new(cells, rect_json(l->code_cells[i]));
    json_object_set_new(code, "cells", cells);
    json_object_set_new(code, "text", rect_json(l->code_text));
    char bits_text[2][PHIEU_FORM_CODE_BITS + 1];
    for (int test = 0; test <= 1; test++) {
        uint8_t bits[PHIEU_FORM_CODE_BITS];
        phieu_form_code_bits(form, test, bits);
        for (int i = 0; i < PHIEU_FORM_CODE_BITS; i++)
            bits_text[test][i] = (char)('0' + bits[i]);
        bits_text[test][PHIEU_FORM_CODE_BITS] = '\0';
    }
    json_object_set_new(code, "bits", json_string(bits_text[0]));
    json_object_set_new(code, "test_bits", json_string(bits_text[1]));
    return code;
}

/* The table: its rectangle, header row, column edges, box line and font size. */
static json_t *table_json(const phieu_layout *l)
{
    json_t *table = rect_json(l->table);
    json_object_set_new(table, "header_row_h_mm", mm(l->header_row_h));
    json_t *cols = json_array();
    for (int c = 0; c <= l->n_columns; c++)
        json_array_append_new(cols, mm(l->column_x[c]));
    json_object_set_new(table, "column_x_mm", cols);
    json_object_set_new(table, "box_line_mm", mm(l->box_line_mm));
    json_object_set_new(table, "font_pt", mm(l->font_pt));
    return table;
}

static json_t *layout_object(const phieu_form *form, const phieu_layout *l)
{
    json_t *root = json_object();
    json_object_set_new(root, "form", json_string(form->id));
    json_object_set_new(root, "fingerprint", json_string(form->fingerprint_hex));
    const char *kind = form->kind == PHIEU_FORM_CONFIDENCE ? "confidence" : "rating";
    json_object_set_new(root, "kind", json_string(kind));
    json_t *page = json_object();
    json_object_set_new(page, "width_mm", mm(l->page_w));
    json_object_set_new(page, "height_mm", mm(l->page_h));
    json_object_set_new(root, "page", page);

    json_t *choices = json_array();
    for (int c = 0; c < form->n_choices; c++) {
        json_t *o = json_object();
        json_object_set_new(o, "key", json_string(form->choices[c].key));
        json_object_set_new(o, "label", json_string(form->choices[c].label));
        json_array_append_new(choices, o);
    }
    json_object_set_new(root, "choices", choices);

    json_object_set_new(root, "fiducials", fiducials_json(l));

    json_object_set_new(root, "rows", rows_json(form, l));

    json_object_set_new(root, "seal", rect_json(l->seal));

    json_object_set_new(root, "code", code_json(form, l));

    json_object_set_new(root, "table", table_json(l));

    json_object_set_new(root, "header_left", rect_json(l->header_left));
    json_object_set_new(root, "header_right", rect_json(l->header_right));
    json_object_set_new(root, "title", rect_json(l->title));
    json_object_set_new(root, "instruction", rect_json(l->instruction));
    json_object_set_new(root, "test_band", rect_json(l->test_band));
    return root;
}

int phieu_layout_json(const phieu_form *form, const phieu_layout *l, phieu_buf *out,
                      phieu_error *err)
{
    json_t *root = layout_object(form, l);
    char *text = root ? json_dumps(root, JSON_INDENT(1) | JSON_REAL_PRECISION(10)) : NULL;
    json_decref(root);
    if (text)
        phieu_buf_puts(out, text);
    free(text);
    if (!text || out->failed)
        return phieu_error_set(err, PHIEU_ENOMEM,
                               "out of memory writing the layout of form '%s' as JSON; close "
                               "other programs and try again",
                               form->id);
    return 0;
}
