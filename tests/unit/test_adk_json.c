/* Unit tests for adk_json: numbers read back bit for bit, counts, nulls, newline-terminated text.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "adk_json.h"
#include "adk_test.h"

/* Print @p o with adk_json_text and parse the text again. */
static cJSON *reparse(const cJSON *o, char **text)
{
    *text = adk_json_text(o);
    CU_ASSERT_FATAL(*text != NULL);
    return cJSON_Parse(*text);
}

static void test_numbers_round_trip(void)
{
    const double v[] = {0.1 + 0.2, 1.0 / 3.0, 2.0 / 3.0, 1e-300, DBL_MAX, DBL_MIN,
                        -0.625,    0.0,       1e22,      4.35,   5e-324,  123456789.123456789};
    const size_t n = sizeof(v) / sizeof(v[0]);
    cJSON *o = cJSON_CreateObject();
    char name[16];
    for (size_t i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "v%zu", i);
        adk_json_num(o, name, v[i]);
    }
    char *text = NULL;
    cJSON *back = reparse(o, &text);
    CU_ASSERT_FATAL(back != NULL);
    for (size_t i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "v%zu", i);
        const cJSON *it = cJSON_GetObjectItemCaseSensitive(back, name);
        CU_ASSERT_FATAL(it != NULL && cJSON_IsNumber(it));
        CU_ASSERT_EQUAL(cJSON_GetNumberValue(it), v[i]); /* parsed text = the same double */
    }
    /* the shortest form: 0.1 + 0.2 needs 17 digits, 0.5 needs one */
    CU_ASSERT(strstr(text, "0.30000000000000004") != NULL);
    cJSON_Delete(back);
    cJSON_Delete(o);
    free(text);
}

static void test_counts_and_nulls(void)
{
    cJSON *o = cJSON_CreateObject();
    adk_json_count(o, "big", 1, INT64_C(9007199254740993)); /* 2^53 + 1: not a double */
    adk_json_count(o, "none", 0, 5);
    adk_json_real(o, "inf", 1, INFINITY);
    adk_json_real(o, "nan", 1, NAN);
    adk_json_real(o, "absent", 0, 1.5);
    adk_json_real(o, "half", 1, 0.5);
    char *text = NULL;
    cJSON *back = reparse(o, &text);
    CU_ASSERT_FATAL(back != NULL);
    CU_ASSERT(strstr(text, "9007199254740993") != NULL);
    CU_ASSERT(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(back, "none")));
    CU_ASSERT(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(back, "inf")));
    CU_ASSERT(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(back, "nan")));
    CU_ASSERT(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(back, "absent")));
    CU_ASSERT_EQUAL(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(back, "half")), 0.5);
    size_t len = strlen(text);
    CU_ASSERT(len > 1 && text[len - 1] == '\n' && text[len - 2] == '}');
    cJSON_Delete(back);
    cJSON_Delete(o);
    free(text);
}

int main(int argc, char **argv)
{
    static const adk_test_t tests[] = {
        {"numbers read back bit for bit", test_numbers_round_trip},
        {"counts, nulls and the final newline", test_counts_and_nulls},
        {NULL, NULL}};
    return adk_test_main(argc, argv, "adk_json", tests);
}
