/*
 * fuzz_form.c - libFuzzer target for the form parser: any bytes must give a form or a
 * clean PHIEU_EFORMAT/PHIEU_ELIMIT with a "file:line:column" message, never a crash.
 * A parsed form must also lay out and round-trip its form code.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "phieu/form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    phieu_error err = {0};
    phieu_form *form = NULL;
    int rc = phieu_form_parse((const char *)data, size, "fuzz.form", &form, &err);
    if (rc != 0) {
        /* Every refusal names the place: "fuzz.form:LINE:COLUMN: ..." (or out of memory). */
        if (rc != PHIEU_ENOMEM && strncmp(err.message, "fuzz.form:", 10) != 0)
            abort();
        if (form)
            abort();
        return 0;
    }
    phieu_layout layout;
    if (phieu_layout_compute(form, &layout, &err) != 0)
        abort();
    uint8_t bits[PHIEU_FORM_CODE_BITS];
    phieu_form_code code;
    phieu_form_code_bits(form, 1, bits);
    if (phieu_form_code_decode(bits, &code, &err) != 0 || !phieu_form_code_matches(&code, form) ||
        code.flags != PHIEU_FORM_CODE_FLAG_TEST)
        abort();
    phieu_form_destroy(&form);
    return 0;
}
