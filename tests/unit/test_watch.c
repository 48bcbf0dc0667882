/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Watching the policy sources (lib/ctl/watch.c) against the real inotify, in
 * a temporary folder: the watch API driven directly, with the real clock
 * (the debounce is 100 ms).
 *
 *   - two source files in one folder: an edit of either is a reload, a file
 *     beside them is not;
 *   - a source folder removed and created again, or renamed away and another
 *     renamed into its place: its new contents are watched, the old one's
 *     are not;
 *   - a Kubernetes ConfigMap volume (..data symlink swap), the same volume
 *     removed and mounted again, and "..data" itself as the source folder.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "test_common.h"

#include "watch.h"

#define WAIT_MS  2000 /* a change must be seen within this */
#define QUIET_MS 400  /* and nothing is seen for this long: no change */

static char tmp[64]; /* the temporary folder */

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* Poll like the control thread (10 ms ticks) for up to ms: reloads seen. */
static unsigned int
reloads_within(struct ctl_watch *w, unsigned int ms)
{
	uint64_t end = now_ms() + ms;
	unsigned int n = 0;

	while (now_ms() < end) {
		n += ctl_watch_poll(w, now_ms());
		sleep_ms(10);
	}
	return n;
}

/*
 * Poll until the first reload, for up to WAIT_MS; then until quiet again:
 * the reloads seen. One edit in this process is exactly one (debounced);
 * a step of several shell commands is at least one (under load, its
 * processes may start more than the debounce apart).
 */
static unsigned int
reload_seen(struct ctl_watch *w)
{
	uint64_t end = now_ms() + WAIT_MS;

	while (now_ms() < end) {
		if (ctl_watch_poll(w, now_ms()))
			return 1 + reloads_within(w, QUIET_MS);
		sleep_ms(10);
	}
	return 0;
}

static void
path_of(char *buf, size_t size, const char *rel)
{
	snprintf(buf, size, "%s/%s", tmp, rel);
}

/* Written in place: open, write, close (IN_MODIFY then IN_CLOSE_WRITE). */
static void
write_path(const char *p, const char *text)
{
	FILE *f = fopen(p, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void
write_file(const char *rel, const char *text)
{
	char p[PATH_MAX];

	path_of(p, sizeof(p), rel);
	write_path(p, text);
}

/* Written aside and renamed into place, as editors do. */
static void
rename_file(const char *rel, const char *text)
{
	char p[PATH_MAX], t[PATH_MAX + 8];

	path_of(p, sizeof(p), rel);
	snprintf(t, sizeof(t), "%s.tmp", p);
	write_path(t, text);
	assert_int_equal(rename(t, p), 0);
}

static void
make_dir(const char *rel)
{
	char p[PATH_MAX];

	path_of(p, sizeof(p), rel);
	assert_int_equal(mkdir(p, 0755), 0);
}

/* A shell command in the temporary folder. */
static void
sh(const char *cmd)
{
	char line[1024];

	snprintf(line, sizeof(line), "cd '%s' && %s", tmp, cmd);
	assert_int_equal(system(line), 0);
}

/* Watch one or two sources, paths in the temporary folder (kept: the watch
 * holds on to them). */
static char src_path[2][PATH_MAX];

static void
watch_init(struct ctl_watch *w, const char *rel0, const char *rel1)
{
	char *sources[] = { src_path[0], src_path[1] };

	path_of(src_path[0], PATH_MAX, rel0);
	if (rel1 != NULL)
		path_of(src_path[1], PATH_MAX, rel1);
	assert_int_equal(ctl_watch_init(w, sources, rel1 != NULL ? 2 : 1), 0);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/egress-watch-XXXXXX");
	assert_non_null(mkdtemp(tmp));
	return 0;
}

static int
teardown(void **state)
{
	char line[128];

	(void)state;
	snprintf(line, sizeof(line), "rm -rf '%s'", tmp);
	assert_int_equal(system(line), 0);
	return 0;
}

/* Both files' edits are reloads, not only the first's. */
static void
test_two_files_in_one_folder(void **state)
{
	struct ctl_watch w;
	(void)state;

	make_dir("policy");
	write_file("policy/a.yaml", "a: 1\n");
	write_file("policy/b.yaml", "b: 1\n");
	watch_init(&w, "policy/a.yaml", "policy/b.yaml");
	assert_int_equal(reloads_within(&w, QUIET_MS), 0);

	write_file("policy/b.yaml", "b: 2\n");
	assert_int_equal(reload_seen(&w), 1);
	rename_file("policy/b.yaml", "b: 3\n");
	assert_int_equal(reload_seen(&w), 1);
	write_file("policy/a.yaml", "a: 2\n");
	assert_int_equal(reload_seen(&w), 1);
	rename_file("policy/a.yaml", "a: 3\n");
	assert_int_equal(reload_seen(&w), 1);
	/* a file beside them is no source */
	write_file("policy/c.yaml", "c: 1\n");
	assert_int_equal(reloads_within(&w, QUIET_MS), 0);
	assert_int_equal(w.changes, 4);
	ctl_watch_close(&w);
}

/* A folder removed and created again is watched again. */
static void
test_folder_removed_and_created_again(void **state)
{
	struct ctl_watch w;
	(void)state;

	make_dir("policy");
	write_file("policy/x.yaml", "x: 1\n");
	watch_init(&w, "policy/", NULL); /* as the configs write it */

	sh("rm -rf policy");
	assert_true(reload_seen(&w) >= 1);
	make_dir("policy");
	assert_int_equal(reload_seen(&w), 1);
	write_file("policy/y.yaml", "y: 1\n");
	assert_int_equal(reload_seen(&w), 1);
	rename_file("policy/y.yaml", "y: 2\n");
	assert_int_equal(reload_seen(&w), 1);
	/* and once more: the watch set again is set again */
	sh("rm -rf policy");
	assert_true(reload_seen(&w) >= 1);
	make_dir("policy");
	assert_int_equal(reload_seen(&w), 1);
	write_file("policy/z.yaml", "z: 1\n");
	assert_int_equal(reload_seen(&w), 1);
	ctl_watch_close(&w);
}

/* A folder renamed away and another renamed into its place. */
static void
test_folder_replaced_by_rename(void **state)
{
	struct ctl_watch w;
	(void)state;

	make_dir("policy");
	write_file("policy/x.yaml", "x: 1\n");
	make_dir("policy.new");
	write_file("policy.new/x.yaml", "x: 2\n");
	watch_init(&w, "policy", NULL);

	sh("mv policy old && mv policy.new policy");
	assert_true(reload_seen(&w) >= 1);
	write_file("policy/y.yaml", "y: 1\n");
	assert_int_equal(reload_seen(&w), 1);
	/* the folder moved away is not a source any more */
	write_file("old/y.yaml", "y: 1\n");
	assert_int_equal(reloads_within(&w, QUIET_MS), 0);
	ctl_watch_close(&w);
}

/*
 * A Kubernetes ConfigMap volume as the kubelet writes it: the files are
 * symlinks through "..data" to a timestamped folder; an update writes a new
 * one and renames a "..data_tmp" symlink onto "..data".
 */
static void
configmap(const char *mnt, const char *ts, const char *text)
{
	char rel[256];

	snprintf(rel, sizeof(rel), "%s/%s", mnt, ts);
	make_dir(rel);
	snprintf(rel, sizeof(rel), "%s/%s/se.yaml", mnt, ts);
	write_file(rel, text);
	snprintf(rel, sizeof(rel),
		 "cd %s && ln -sfn %s ..data_tmp && mv -T ..data_tmp ..data && "
		 "ln -sfn ..data/se.yaml se.yaml",
		 mnt, ts);
	sh(rel);
}

/* ..data swaps, and the volume removed and mounted again. */
static void
test_configmap_swap_and_remount(void **state)
{
	struct ctl_watch w;
	(void)state;

	make_dir("cm");
	configmap("cm", "..2026_01", "v: 1\n");
	watch_init(&w, "cm/se.yaml", NULL);
	assert_int_equal(reloads_within(&w, QUIET_MS), 0);

	configmap("cm", "..2026_02", "v: 2\n");
	sh("rm -rf cm/..2026_01");
	assert_true(reload_seen(&w) >= 1);

	/* remount: the whole volume goes, an identical one comes */
	sh("rm -rf cm");
	assert_true(reload_seen(&w) >= 1);
	make_dir("cm");
	configmap("cm", "..2026_03", "v: 3\n");
	assert_true(reload_seen(&w) >= 1);
	/* and the new volume's updates are seen */
	configmap("cm", "..2026_04", "v: 4\n");
	sh("rm -rf cm/..2026_03");
	assert_true(reload_seen(&w) >= 1);
	ctl_watch_close(&w);
}

/* A source that is the "..data" symlink itself: each swap follows the link. */
static void
test_configmap_data_folder(void **state)
{
	struct ctl_watch w;
	(void)state;

	make_dir("cm");
	configmap("cm", "..2026_01", "v: 1\n");
	watch_init(&w, "cm/..data", NULL);

	configmap("cm", "..2026_02", "v: 2\n");
	assert_true(reload_seen(&w) >= 1);
	/* the folder the link now names is the one watched (the kubelet would
	 * not write into it, but nothing else tells which one is watched) */
	write_file("cm/..2026_02/other.yaml", "o: 1\n");
	assert_int_equal(reload_seen(&w), 1);
	write_file("cm/..2026_01/other.yaml", "o: 1\n");
	assert_int_equal(reloads_within(&w, QUIET_MS), 0);
	ctl_watch_close(&w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_two_files_in_one_folder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_folder_removed_and_created_again, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_folder_replaced_by_rename, setup, teardown),
		cmocka_unit_test_setup_teardown(test_configmap_swap_and_remount, setup, teardown),
		cmocka_unit_test_setup_teardown(test_configmap_data_folder, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
