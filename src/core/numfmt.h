/* Numbers as text for files people read and programs read back: the shortest
 * decimal that converts back to the same double ("0.05", not
 * "0.050000000000000003"), as Python's repr and Ryu-style printers do. */
#ifndef ALRS_CORE_NUMFMT_H
#define ALRS_CORE_NUMFMT_H

/* Room for any double written by num_format ("-1.2345678901234567e-308"). */
#define NUM_TEXT 32

/* Writes x into buf (at least NUM_TEXT bytes) with the fewest significant
 * digits (1 to 17) that strtod reads back as x; "nan", "inf", "-inf" for the
 * others. Returns buf. */
char *num_format(char buf[NUM_TEXT], double x);

#endif
