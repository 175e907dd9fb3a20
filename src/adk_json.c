/*
 * adk_json: exact numbers and newline-terminated text for the JSON summaries (see adk_json.h).
 */
#include "adk_json.h"
#include "adk_mem.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void adk_json_num(cJSON *o, const char *name, double v)
{
    char buf[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof(buf), "%.*g", prec, v);
        if (strtod(buf, NULL) == v) {
            break;
        }
    }
    cJSON_AddRawToObject(o, name, buf);
}

void adk_json_count(cJSON *o, const char *name, int has, int64_t v)
{
    if (has) {
        char buf[32];
        snprintf(buf, sizeof(buf), "%lld", (long long)v);
        cJSON_AddRawToObject(o, name, buf);
    } else {
        cJSON_AddNullToObject(o, name);
    }
}

void adk_json_real(cJSON *o, const char *name, int has, double v)
{
    if (has && isfinite(v)) {
        adk_json_num(o, name, v);
    } else {
        cJSON_AddNullToObject(o, name);
    }
}

char *adk_json_text(const cJSON *o)
{
    char *p = cJSON_Print(o);
    if (!p) {
        return NULL;
    }
    size_t len = strlen(p);
    char *text = adk_malloc(len + 2);
    if (text) {
        memcpy(text, p, len);
        memcpy(text + len, "\n", 2);
    }
    cJSON_free(p);
    return text;
}
