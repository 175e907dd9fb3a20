/*
 * adk_json: the few cJSON helpers every JSON summary needs (adkit-score, adkit-gauss score,
 * adkit-metrics): numbers that read back as the same double, counts as exact integers, null for
 * what a summary does not have, and the printed text as one newline-terminated line set.
 */
#ifndef ADK_JSON_H
#define ADK_JSON_H

#include <stdint.h>

#include <cjson/cJSON.h>

/**
 * Add @p v as the shortest of %.15g .. %.17g that reads back as exactly the same double (cJSON's
 * own printing settles for 15 digits whenever they come within an epsilon, which can lose the
 * last bit). @p v must be finite. Local (as every function here).
 */
void adk_json_num(cJSON *o, const char *name, double v);

/** Add @p v as an exact integer when @p has, else null. Local. */
void adk_json_count(cJSON *o, const char *name, int has, int64_t v);

/** Add @p v as by adk_json_num when @p has and it is finite, else null. Local. */
void adk_json_real(cJSON *o, const char *name, int has, double v);

/** Print @p o (formatted) and end it with a newline: malloc'd text, NULL when out of memory.
 * Local. */
char *adk_json_text(const cJSON *o);

#endif
