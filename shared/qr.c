/* SPDX-License-Identifier: MIT */
/* QR codes as a module matrix, from libqrencode. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <qrencode.h>

#include "qr.h"

int qr_encode(const char *text, struct qr *ret)
{
        QRcode *code;
        uint8_t *m;

        if (!text || !*text)
                return -EINVAL;
        code = QRcode_encodeString8bit(text, 0, QR_ECLEVEL_M);
        if (!code)
                return errno == ERANGE ? -EINVAL : -ENOMEM;
        m = malloc((size_t)code->width * (size_t)code->width);
        if (!m) {
                QRcode_free(code);
                return -ENOMEM;
        }
        for (int i = 0; i < code->width * code->width; i++)
                m[i] = code->data[i] & 1;
        ret->size = code->width;
        ret->modules = m;
        QRcode_free(code);
        return 0;
}

void qr_finish(struct qr *qr)
{
        if (!qr)
                return;
        free(qr->modules);
        qr->modules = NULL;
        qr->size = 0;
}
