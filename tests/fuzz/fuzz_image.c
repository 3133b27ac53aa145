/*
 * fuzz_image.c - libFuzzer target over the image loaders: any byte string opened as an
 * image file must give pages or an error, never a crash, a hang or a leak. Limits are
 * small (4 megapixels, 16 MiB) so that a claimed huge page cannot exhaust memory.
 * The seed corpus is tests/fuzz/corpus/fuzz_image/; `make check` replays it.
 */
#include <stddef.h>
#include <stdint.h>

#include "phieu/image.h"

/* Small enough that a fuzzer never runs out of memory, large enough for real seeds. */
#define FUZZ_MAX_PIXELS ((uint64_t)4 << 20)
#define FUZZ_MAX_BYTES ((uint64_t)16 << 20)
/* A bound on pages, so a long chain of directories cannot make one input run long. */
#define FUZZ_MAX_PAGES 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    phieu_image_limits limits = {FUZZ_MAX_PIXELS, FUZZ_MAX_BYTES};
    phieu_error err = {0};
    phieu_image_reader *r = NULL;
    if (phieu_image_reader_open_memory(data, size, "fuzz", &limits, &r, &err) != 0)
        return 0;
    for (int i = 0; i < FUZZ_MAX_PAGES; i++) {
        phieu_image *page = NULL;
        if (phieu_image_reader_next(r, &page, &err) != 1)
            break;
        /* Touch every pixel so a short buffer would show under the sanitizers. */
        unsigned sum = 0;
        for (int y = 0; y < page->height; y++)
            for (int x = 0; x < page->width; x++)
                sum += page->pixels[(size_t)y * (size_t)page->stride + (size_t)x];
        (void)sum;
        phieu_image_destroy(&page);
    }
    phieu_image_reader_close(&r);
    return 0;
}
