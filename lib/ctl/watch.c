/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Watch the policy sources with inotify and say when to reload.
 *
 * What has to be seen:
 *   - an editor writing a temporary file and renaming it into place
 *     (IN_MOVED_TO in the folder);
 *   - a Kubernetes ConfigMap volume swapping its "..data" symlink (a
 *     rename of "..data_tmp" onto "..data": IN_MOVED_TO in the folder);
 *   - files written in place (IN_CLOSE_WRITE), created, deleted.
 * So every source folder is watched, and for a source file its folder,
 * filtered by name (and by "..data", which a file symlinked into a
 * ConfigMap depends on). Sources in one folder share one inotify watch (the
 * kernel gives one descriptor per inode): an event is matched against every
 * source on that descriptor, not only the first.
 *
 * A watch belongs to an inode, not to a path: a folder removed and created
 * again, renamed away and replaced, or remounted (a ConfigMap volume) would
 * leave the new folder unwatched. So each watched folder's parent is watched
 * too, filtered by the folder's name, and when the folder comes or goes
 * (its name created, moved, deleted in the parent; IN_DELETE_SELF,
 * IN_MOVE_SELF, IN_UNMOUNT, IN_IGNORED on it; a queue overflow) every source
 * is watched again by path once the events are drained. Watching again is a
 * few syscalls: the kernel returns the same descriptor for an inode already
 * watched, and descriptors no source uses any more are removed. A folder
 * that is missing then is picked up when its parent sees it created.
 *
 * Debounce: a change arms a timer of CTL_WATCH_QUIET_MS; every further
 * change re-arms it, so one save (or one ConfigMap swap, which is several
 * events) is one reload. A file seen modified but not yet closed is given
 * up to CTL_WATCH_OPEN_MS to be closed first: a half-written file is never
 * what the reload reads, unless a writer keeps it open that long, and then
 * the all-or-nothing reload still refuses a file that does not parse.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "watch.h"

EGRESS_LOG_TYPE(ctl);

#define CTL_WATCH_QUIET_MS 100
#define CTL_WATCH_OPEN_MS  2000
#define WATCH_MASK                                                                                 \
	(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_ATTRIB |        \
	 IN_DELETE_SELF | IN_MOVE_SELF | IN_MODIFY)
/* the watched inode is gone from its path, or no longer watched */
#define GONE_MASK (IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT | IN_IGNORED)

static void
copy(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* dirname() and basename() of path (a name is at most NAME_MAX bytes). */
static void
split(const char *path, char dir[PATH_MAX], char base[NAME_MAX + 1])
{
	char d[PATH_MAX], b[PATH_MAX];

	copy(d, sizeof(d), path);
	copy(b, sizeof(b), path);
	copy(dir, PATH_MAX, dirname(d));
	copy(base, NAME_MAX + 1, basename(b));
}

/* (Re)watch e's folder and its parent by path. @return 0 or -errno of the folder's. */
static int
arm(struct ctl_watch *w, struct ctl_watch_entry *e)
{
	char dir[PATH_MAX], parent[PATH_MAX];
	int rc = 0;

	if (e->folder)
		copy(dir, sizeof(dir), e->source);
	else
		split(e->source, dir, e->name);
	/* the same mask on both: one inode may be a folder of one source
	 * and the parent of another, and a second add replaces the mask */
	e->wd = inotify_add_watch(w->fd, dir, WATCH_MASK);
	if (e->wd < 0)
		rc = -errno;
	split(dir, parent, e->dir_name);
	e->parent_wd = inotify_add_watch(w->fd, parent, WATCH_MASK);
	return rc;
}

static bool
wd_used(const struct ctl_watch *w, int wd)
{
	unsigned int i;

	for (i = 0; i < w->n; i++)
		if (w->entries[i].wd == wd || w->entries[i].parent_wd == wd)
			return true;
	return false;
}

/* Every source by path again; drop the watches of inodes no source has now. */
static void
rearm(struct ctl_watch *w)
{
	int old[2 * CTL_WATCH_MAX];
	unsigned int i, n_old = 0;

	for (i = 0; i < w->n; i++) {
		old[n_old++] = w->entries[i].wd;
		old[n_old++] = w->entries[i].parent_wd;
		arm(w, &w->entries[i]);
	}
	for (i = 0; i < n_old; i++)
		if (old[i] >= 0 && !wd_used(w, old[i]))
			inotify_rm_watch(w->fd, old[i]); /* EINVAL if gone already: fine */
	w->rearm = false;
	w->rearms++;
}

int
ctl_watch_init(struct ctl_watch *w, char *const *sources, unsigned int n)
{
	unsigned int i;
	int rc;

	memset(w, 0, sizeof(*w));
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0) {
		rc = -errno;
		w->fd = -1;
		return rc;
	}
	for (i = 0; i < n; i++) {
		struct ctl_watch_entry *e;
		struct stat st;

		if (w->n == CTL_WATCH_MAX) {
			EGRESS_LOG(WARNING,
				   "cannot watch %s: more than %u sources; "
				   "reload with SIGHUP",
				   sources[i], CTL_WATCH_MAX);
			continue;
		}
		e = &w->entries[w->n++];
		e->source = sources[i];
		/* a file, or one not there yet: its folder, by name */
		e->folder = stat(sources[i], &st) == 0 && S_ISDIR(st.st_mode);
		rc = arm(w, e);
		if (rc < 0)
			EGRESS_LOG(WARNING, "cannot watch %s: %s; %s", sources[i], strerror(-rc),
				   e->parent_wd >= 0 ? "watched again when it appears" :
						       "reload with SIGHUP");
	}
	return 0;
}

void
ctl_watch_close(struct ctl_watch *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
}

/*
 * Does this event concern a source? In its folder: the file's name, a
 * ConfigMap's "..data" swap, or for a folder any name but dotfiles; the
 * folder itself gone. In the parent: the folder's name (then watch again).
 */
static bool
relevant(struct ctl_watch *w, const struct inotify_event *ev)
{
	const char *name = ev->len > 0 ? ev->name : "";
	bool hit = false;
	unsigned int i;

	for (i = 0; i < w->n; i++) {
		const struct ctl_watch_entry *e = &w->entries[i];

		if (ev->wd == e->wd) {
			if (ev->mask & GONE_MASK) {
				w->rearm = true;
				hit = true;
			} else if (strcmp(name, "..data") == 0) {
				hit = true;
			} else if (e->name[0] != '\0') {
				hit |= strcmp(name, e->name) == 0;
			} else {
				hit |= name[0] != '.';
			}
		}
		if (ev->wd == e->parent_wd && strcmp(name, e->dir_name) == 0) {
			w->rearm = true;
			hit = true;
		}
	}
	return hit;
}

bool
ctl_watch_poll(struct ctl_watch *w, uint64_t now_ms)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t len;

	if (w->fd < 0)
		return false;
	while ((len = read(w->fd, buf, sizeof(buf))) > 0) {
		const char *p;

		for (p = buf; p < buf + len;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			p += sizeof(*ev) + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				/* events lost: a folder may have gone or come too */
				w->rearm = true;
				w->due_ms = now_ms + CTL_WATCH_QUIET_MS;
				continue;
			}
			if (!relevant(w, ev))
				continue;
			if (ev->mask & IN_MODIFY) {
				/* still being written: wait for the close */
				if (w->open_since_ms == 0)
					w->open_since_ms = now_ms;
				w->due_ms = 0;
				continue;
			}
			w->open_since_ms = 0;
			w->due_ms = now_ms + CTL_WATCH_QUIET_MS;
		}
	}
	/* after the drain: events already queued still name the old descriptors */
	if (w->rearm)
		rearm(w);
	if (w->open_since_ms != 0 && now_ms - w->open_since_ms >= CTL_WATCH_OPEN_MS) {
		w->open_since_ms = 0;
		w->due_ms = now_ms;
	}
	if (w->due_ms != 0 && now_ms >= w->due_ms) {
		w->due_ms = 0;
		w->changes++;
		return true;
	}
	return false;
}
