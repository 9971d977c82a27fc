/*
 * driver.c: run fuzz targets without libFuzzer, over files given on the
 * command line (and every file in a directory given).  make check uses it
 * to replay the seed corpus and every crash ever found under gcc and the
 * sanitizers; fuzz/run links the same targets with libFuzzer instead.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Feed one file to the target.  Returns 1 on success, 0 if unreadable. */
static int
run_file(const char *path)
{
	FILE		*f;
	uint8_t		*buf;
	long		 n;

	if ((f = fopen(path, "rb")) == NULL)
		return 0;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return 0;
	}
	/* One spare byte so a zero-length input still has a buffer. */
	if ((buf = malloc((size_t)n + 1)) == NULL ||
	    fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return 0;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	return 1;
}

int
main(int argc, char *argv[])
{
	struct dirent	*e;
	struct stat	 sb;
	DIR		*d;
	char		 path[4096];
	int		 i, n = 0;

	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &sb) == 0 && S_ISDIR(sb.st_mode)) {
			if ((d = opendir(argv[i])) == NULL)
				return 1;
			while ((e = readdir(d)) != NULL) {
				if (e->d_name[0] == '.')
					continue;
				snprintf(path, sizeof(path), "%s/%s",
				    argv[i], e->d_name);
				if (!run_file(path)) {
					fprintf(stderr, "cannot read %s\n",
					    path);
					closedir(d);
					return 1;
				}
				n++;
			}
			closedir(d);
		} else if (!run_file(argv[i])) {
			fprintf(stderr, "cannot read %s\n", argv[i]);
			return 1;
		} else
			n++;
	}
	printf("%d inputs\n", n);
	return 0;
}
