/*
 * Names that become a path component: a job's folder under OUT (the job
 * file's name), a run id.  One rule, checked in one place, so no name
 * can be "", ".", "..", a hidden file, an option or a path:
 * 1 to 128 letters, digits, '.', '_' or '-', the first a letter or digit.
 */
#ifndef DD_NAME_H
#define DD_NAME_H

#define DD_NAME_MAX  128
#define DD_NAME_FORM "1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit"

/*
 * 0 when name follows the rule; else DD_E_FORMAT with the detail
 * "WHAT 'NAME' is not allowed (why): a name is DD_NAME_FORM".
 * what says which name it is ("the job name").
 */
int dd_name_check(const char *what, const char *name);

/*
 * A new run id (builds and batches): the UTC time and 3 random bytes,
 * "20261202T021804Z-f56d47", so ids sort by time and two of one second
 * differ.  It follows the rule above.
 */
void dd_name_run_id(char out[40]);

#endif
