/* A tiny unit-test harness: TEST(name) { CHECK(...); } registers itself. */
#ifndef PKGFLAT_TEST_H
#define PKGFLAT_TEST_H

#include <stdio.h>
#include <string.h>

typedef void (*test_fn)(void);
void test_register(const char *name, test_fn fn);
void test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Read a whole file; aborts the test run when it cannot. */
unsigned char *test_slurp(const char *path, size_t *len);

#define TEST(name)                                                        \
	static void name(void);                                           \
	__attribute__((constructor)) static void reg_##name(void)         \
	{                                                                 \
		test_register(#name, name);                               \
	}                                                                 \
	static void name(void)

#define CHECK(cond)                                                       \
	do {                                                              \
		if (!(cond))                                              \
			test_fail(__FILE__, __LINE__, "%s", #cond);       \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                \
	do {                                                              \
		long long a_ = (long long)(a), b_ = (long long)(b);       \
		if (a_ != b_)                                             \
			test_fail(__FILE__, __LINE__, "%s == %lld, want %lld", \
			    #a, a_, b_);                                  \
	} while (0)

#define CHECK_EQ_STR(a, b)                                                \
	do {                                                              \
		const char *a_ = (a), *b_ = (b);                          \
		if (!a_ || !b_ || strcmp(a_, b_) != 0)                    \
			test_fail(__FILE__, __LINE__, "%s == \"%s\", want \"%s\"", \
			    #a, a_ ? a_ : "(null)", b_ ? b_ : "(null)");  \
	} while (0)

#endif
