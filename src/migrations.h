/* migrations.h: the schema migrations compiled in from sql/ (see
 * build-aux/sql2c.sh).  migrations[i].version == i + 1. */
#ifndef MIGRATIONS_H
#define MIGRATIONS_H

struct migration {
	int		 version;
	const char	*name;
	const char	*sql;
};

extern const struct migration migrations[];
extern const int nmigrations;

#endif
