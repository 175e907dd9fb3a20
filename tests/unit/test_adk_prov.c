/* Unit suite of adk_prov: placeholder, being written. */
#include "adk_test.h"

int main(int argc, char **argv)
{
    static const adk_test_t tests[] = {{NULL, NULL}};
    return adk_test_main(argc, argv, "adk_prov", tests);
}
