/*
 * board_read.h - the review server's API for the board's reading of a page the machine
 * could not count (GET and POST /api/exception/ID/board-read). The screen is
 * src/review/assets/board.js; the rules are the session's (phieu_session_read_by_board).
 */
#ifndef PHIEU_REVIEW_BOARD_READ_H
#define PHIEU_REVIEW_BOARD_READ_H

#include <pthread.h>

#include "phieu/session.h"
#include "review/review_internal.h"

/* Answers GET (what the screen shows: the page, the forms' rows and choices, whether a
 * rescan is likely to help, the caller's own entry, and the differing entries only for a
 * head who did not read the page) or POST {"form", "rows": [...], "note"} (records the
 * caller's reading). `lock` guards `s`, which is shared with the other handlers. */
void review_board_read(review_request *req, review_response *res, int64_t id, pthread_mutex_t *lock,
                       phieu_session *s);

#endif
