/*
 * assets.c - the review screen's HTML, script and style, compiled into the program by
 * src/review/assets.cmake, looked up by URL path. The files themselves are in
 * src/review/assets/; nothing here reads the disk or the network.
 */
#include <string.h>

#include "review/review_internal.h"
#include "review_assets.h"

static const char *content_type(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (!dot)
        return "application/octet-stream";
    if (strcmp(dot, ".html") == 0)
        return "text/html; charset=utf-8";
    if (strcmp(dot, ".js") == 0)
        return "text/javascript; charset=utf-8";
    if (strcmp(dot, ".css") == 0)
        return "text/css; charset=utf-8";
    if (strcmp(dot, ".svg") == 0)
        return "image/svg+xml";
    if (strcmp(dot, ".png") == 0)
        return "image/png";
    return "application/octet-stream";
}

int review_asset_find(const char *path, const uint8_t **data, size_t *len, const char **type)
{
    if (strcmp(path, "/") == 0)
        path = "/index.html";
    for (size_t i = 0; i < sizeof review_assets / sizeof review_assets[0]; i++)
        if (strcmp(review_assets[i].path, path) == 0) {
            *data = review_assets[i].data;
            *len = review_assets[i].len;
            *type = content_type(path);
            return 1;
        }
    return 0;
}
