/* Unit suite of adk_rows: placeholder, being written. */
#include "adk_test.h"

int main(int argc, char **argv)
{
    static const adk_test_t tests[] = {{NULL, NULL}};
    return adk_test_main(argc, argv, "adk_rows", tests);
}
