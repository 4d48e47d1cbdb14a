/* Unit tests of the cluster configuration layer: section config parser and
 * writer, nodes.cfg, storage.cfg, replication.cfg, guest configs and
 * volume rules. */
#include "unit.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fileio.h"
#include "config/cluster.h"
#include "config/sectioncfg.h"

static int has_warning(const struct strvec *w, const char *needle)
{
	for (size_t i = 0; i < w->nr; i++)
		if (strstr(w->v[i], needle))
			return 1;
	return 0;
}

/* ---- sectioncfg ---- */

static void test_sc_parse_basic(void **state)
{
	static const char text[] = "# leading comment\n"
				   "local: 100-0\n"
				   "\ttarget pve2\n"
				   "  # comment inside\n"
				   "\tdisable\n"
				   "    rate   10.5  \r\n"
				   "\n"
				   "\n"
				   "zfspool: tank\n"
				   "\tpool rpool/data\n";
	struct sectioncfg sc = SECTIONCFG_INIT;
	struct strvec w = STRVEC_INIT;

	(void)state;
	assert_int_equal(sectioncfg_parse(&sc, "x.cfg", text, strlen(text), &w), 0);
	assert_int_equal(w.nr, 0);
	assert_int_equal(sc.nr, 2);
	assert_string_equal(sc.sections[0].type, "local");
	assert_string_equal(sc.sections[0].id, "100-0");
	assert_int_equal(sc.sections[0].line, 2);
	assert_int_equal(sc.sections[0].nr, 3);
	assert_string_equal(sc_section_get(&sc.sections[0], "target"), "pve2");
	assert_string_equal(sc_section_get(&sc.sections[0], "disable"), "1");
	assert_string_equal(sc_section_get(&sc.sections[0], "rate"), "10.5");
	assert_string_equal(sc.sections[1].type, "zfspool");
	assert_string_equal(sc_section_get(&sc.sections[1], "pool"), "rpool/data");
	sectioncfg_release(&sc);
	strvec_clear(&w);
}

static void test_sc_parse_warnings(void **state)
{
	static const char text[] = "garbage line\n"
				   "local: 100-0\n"
				   "\ttarget pve2\n"
				   "\ttarget pve3\n"
				   "local: 100-1\n"
				   "\tvalue with\rcr\n"
				   "\n"
				   " indented: header\n";
	struct sectioncfg sc = SECTIONCFG_INIT;
	struct strvec w = STRVEC_INIT;

	(void)state;
	assert_int_equal(sectioncfg_parse(&sc, "replication.cfg", text, strlen(text), &w), 0);
	assert_int_equal(sc.nr, 2);
	assert_string_equal(sc_section_get(&sc.sections[0], "target"), "pve2");
	assert_true(has_warning(&w, "file replication.cfg line 1 - ignore config line: garbage line"));
	assert_true(has_warning(&w, "file replication.cfg line 4 (section '100-0') - unable to parse value of 'target': duplicate attribute"));
	/* a header without a blank line before it starts a section, with one warning */
	assert_true(has_warning(&w, "file replication.cfg line 5 - no blank line between section '100-0' and 'local: 100-1' (read as a new section; add a blank line)"));
	assert_string_equal(sc.sections[1].id, "100-1");
	assert_true(has_warning(&w, "line 6 (section '100-1') - ignore config line (value contains a carriage return)"));
	assert_true(has_warning(&w, "file replication.cfg line 8 - ignore config line:  indented: header"));
	assert_int_equal(w.nr, 5);
	sectioncfg_release(&sc);
	strvec_clear(&w);
}

static void test_sc_limits(void **state)
{
	struct sectioncfg sc = SECTIONCFG_INIT;
	struct strvec w = STRVEC_INIT;
	struct strbuf big = STRBUF_INIT;

	(void)state;
	strbuf_addstr(&big, "local: 100-0\n\tcomment ");
	for (int i = 0; i < SECTIONCFG_MAX_LINE; i++)
		strbuf_addch(&big, 'x');
	strbuf_addstr(&big, "\n\ttarget pve2\n");
	assert_int_equal(sectioncfg_parse(&sc, "r.cfg", big.buf, big.len, &w), 0);
	assert_int_equal(sc.nr, 1);
	assert_null(sc_section_get(&sc.sections[0], "comment"));
	assert_string_equal(sc_section_get(&sc.sections[0], "target"), "pve2");
	assert_true(has_warning(&w, "line too long"));
	sectioncfg_release(&sc);
	/* a control character in a shown line is masked */
	strvec_clear(&w);
	assert_int_equal(sectioncfg_parse(&sc, "r.cfg", "\x1b[31m\n", 6, &w), 0);
	assert_true(has_warning(&w, "ignore config line: ?[31m"));
	sectioncfg_release(&sc);
	/* file size cap */
	char *huge = calloc(1, SECTIONCFG_MAX_FILE + 1);
	assert_int_equal(sectioncfg_parse(&sc, "r.cfg", huge, SECTIONCFG_MAX_FILE + 1, &w), -EFBIG);
	free(huge);
	strvec_clear(&w);
	strbuf_release(&big);
}

static const char *const req[] = { "target", NULL };
static const char *const bools[] = { "disable", NULL };
static const struct sc_layout layouts[] = { { "local", req, bools }, { NULL, NULL, NULL } };

static void test_sc_writer_layout(void **state)
{
	static const char in[] = "local: 100-0\n"
				 "\tsource pve1\n"
				 "\tschedule */5\n"
				 "\ttarget pve2\n"
				 "\tdisable 1\n"
				 "\trate 10\n"
				 "\tcomment DB%3A nightly copy\n"
				 "local: header-without-blank-line\n"
				 "\n"
				 "local: 100-1\n"
				 "\tdisable 0\n"
				 "\tsource pve1\n"
				 "\ttarget pve3\n";
	static const char want[] = "local: 100-0\n"
				   "\tcomment DB%3A nightly copy\n"
				   "\tdisable\n"
				   "\ttarget pve2\n"
				   "\trate 10\n"
				   "\tschedule */5\n"
				   "\tsource pve1\n"
				   "\n"
				   "local: header-without-blank-line\n"
				   "\n"
				   "local: 100-1\n"
				   "\ttarget pve3\n"
				   "\tsource pve1\n"
				   "\n";
	struct sectioncfg sc = SECTIONCFG_INIT, sc2 = SECTIONCFG_INIT;
	struct strbuf out = STRBUF_INIT, out2 = STRBUF_INIT, err = STRBUF_INIT;

	(void)state;
	assert_int_equal(sectioncfg_parse(&sc, "r.cfg", in, strlen(in), NULL), 0);
	assert_int_equal(sectioncfg_write(&sc, layouts, &out, &err), 0);
	assert_string_equal(out.buf, want);
	/* round trip: parse(write(x)) writes the same text */
	assert_int_equal(sectioncfg_parse(&sc2, "r.cfg", out.buf, out.len, NULL), 0);
	assert_int_equal(sectioncfg_write(&sc2, layouts, &out2, &err), 0);
	assert_string_equal(out.buf, out2.buf);
	/* a value with a line feed is refused */
	sc_section_set(&sc.sections[0], "comment", "a\nb");
	strbuf_reset(&out);
	assert_int_equal(sectioncfg_write(&sc, layouts, &out, &err), -EINVAL);
	assert_string_equal(err.buf, "property 'comment' contains a line feed");
	sectioncfg_release(&sc);
	sectioncfg_release(&sc2);
	strbuf_release(&out);
	strbuf_release(&out2);
	strbuf_release(&err);
}

static void test_sc_edit(void **state)
{
	struct sectioncfg sc = SECTIONCFG_INIT;
	struct strbuf out = STRBUF_INIT;

	(void)state;
	struct sc_section *s = sectioncfg_add(&sc, "node", "b");
	sc_section_set(s, "address", "10.0.0.2");
	s = sectioncfg_add(&sc, "node", "a");
	sc_section_set(s, "zeta", "1");
	sc_section_set(s, "alpha", "2");
	sc_section_set(s, "alpha", "3");
	assert_int_equal(sc_section_del(s, "zeta"), 1);
	assert_int_equal(sc_section_del(s, "zeta"), 0);
	assert_non_null(sectioncfg_find(&sc, "a"));
	assert_int_equal(sectioncfg_write(&sc, NULL, &out, NULL), 0);
	assert_string_equal(out.buf, "node: b\n\taddress 10.0.0.2\n\nnode: a\n\talpha 3\n\n");
	sectioncfg_remove(&sc, 0);
	assert_int_equal(sc.nr, 1);
	assert_null(sectioncfg_find(&sc, "b"));
	sectioncfg_release(&sc);
	strbuf_release(&out);
}

/* ---- nodes.cfg, storage.cfg ---- */

static void test_nodes(void **state)
{
	static const char text[] = "node: pve1\n\taddress 127.0.1.1\n\n"
				   "node: pve2\n\n"
				   "node: -bad\n\taddress x\n\n"
				   "node: pve3\n\taddress -oProxyCommand=x\n\n"
				   "node: pve1\n\taddress 10.0.0.1\n\n"
				   "host: pve4\n";
	struct nodes_cfg nc = { 0 };
	struct strvec w = STRVEC_INIT;

	(void)state;
	assert_int_equal(nodes_cfg_parse(&nc, text, strlen(text), &w), 0);
	assert_int_equal(nc.nr, 2);
	assert_string_equal(nodes_cfg_find(&nc, "pve1")->address, "127.0.1.1");
	assert_string_equal(nodes_cfg_find(&nc, "pve2")->address, "pve2");
	assert_null(nodes_cfg_find(&nc, "pve3"));
	assert_true(has_warning(&w, "(skip section '-bad'): value does not look like a valid node name"));
	assert_true(has_warning(&w, "(skip section 'pve3'): invalid address"));
	assert_true(has_warning(&w, "(skip section 'pve1'): duplicate node"));
	assert_true(has_warning(&w, "unknown type 'host'"));
	assert_true(valid_host_address("fe80::1"));
	assert_false(valid_host_address("a b"));
	assert_int_equal(nodes_cfg_find(&nc, "pve1")->port, 0);
	nodes_cfg_release(&nc);
	strvec_clear(&w);

	/* port, host:port, unknown keys */
	static const char text2[] = "node: a\n\taddress 10.0.0.1\n\tport 2222\n\n"
				    "node: b\n\taddress 10.0.0.2:22\n\n"
				    "node: c\n\tport 65536\n\n"
				    "node: d\n\tadress 10.0.0.4\n\n"
				    "node: e\n\taddress fe80::1\n";
	assert_int_equal(nodes_cfg_parse(&nc, text2, strlen(text2), &w), 0);
	assert_int_equal(nc.nr, 3);
	assert_int_equal(nodes_cfg_find(&nc, "a")->port, 2222);
	assert_null(nodes_cfg_find(&nc, "b"));
	assert_null(nodes_cfg_find(&nc, "c"));
	assert_string_equal(nodes_cfg_find(&nc, "d")->address, "d");
	assert_string_equal(nodes_cfg_find(&nc, "e")->address, "fe80::1");
	assert_true(has_warning(&w, "file nodes.cfg line 5 (skip section 'b'): invalid address '10.0.0.2:22' - expected a host name or an IP address; give the port on its own line: 'port 22'"));
	assert_true(has_warning(&w, "(skip section 'c'): invalid port '65536' - expected a number from 1 to 65535"));
	assert_true(has_warning(&w, "file nodes.cfg line 12 (section 'd') - unknown key 'adress' (ignored; known keys: address, port, comment)"));
	assert_int_equal(w.nr, 3);
	nodes_cfg_release(&nc);
	strvec_clear(&w);
}

static void test_storage(void **state)
{
	static const char text[] = "zfspool: local-zfs\n\tpool rpool/data\n\tsparse\n\tcontent images,rootdir\n\n"
				   "btrfs: local-btrfs\n\tpath /mnt/btrfs\n\tnodes pve1,pve2\n\n"
				   "dir: local\n\tpath /var/lib/vz\n\tshared 1\n\n"
				   "rbd: ceph\n\tpool vms\n\n"
				   "lvmthin: thin\n\tvgname pve\n\tthinpool data\n\tdisable\n\n"
				   "zfspool: nopool\n\tcontent images\n\n"
				   "zfspool: badpool\n\tpool -rf/x\n\n"
				   "btrfs: relpath\n\tpath mnt\n\n"
				   "weird: w1\n\tpath /x\n\n"
				   "dir: Bad_ID\n\tpath /x\n\n";
	struct storage_cfg sc = { 0 };
	struct strvec w = STRVEC_INIT;
	const struct storage *st;

	(void)state;
	assert_int_equal(storage_cfg_parse(&sc, text, strlen(text), &w), 0);
	assert_int_equal(sc.nr, 5);
	st = storage_cfg_find(&sc, "local-zfs");
	assert_ptr_equal(st->stype, storage_type_of(BACKEND_ZFSPOOL));
	assert_string_equal(st->pool, "rpool/data");
	assert_int_equal(st->content.nr, 2);
	assert_true(storage_can_replicate(st));
	assert_false(st->shared);
	assert_true(storage_available_on(st, "anything"));
	st = storage_cfg_find(&sc, "local-btrfs");
	assert_ptr_equal(st->stype, storage_type_of(BACKEND_BTRFS));
	assert_string_equal(st->path, "/mnt/btrfs");
	assert_true(storage_available_on(st, "pve2"));
	assert_false(storage_available_on(st, "pve3"));
	st = storage_cfg_find(&sc, "local");
	assert_null(st->stype);
	assert_true(st->shared);
	assert_false(storage_can_replicate(st));
	assert_true(storage_cfg_find(&sc, "ceph")->shared); /* network type: shared by nature */
	st = storage_cfg_find(&sc, "thin");
	assert_true(st->disable);
	assert_false(storage_available_on(st, "pve1"));
	assert_true(has_warning(&w, "(skip section 'nopool'): missing value for required option 'pool'"));
	assert_true(has_warning(&w, "(skip section 'badpool'): invalid pool '-rf/x'"));
	assert_true(has_warning(&w, "(skip section 'relpath'): invalid path 'mnt'"));
	assert_true(has_warning(&w, "unknown storage type 'weird'"));
	assert_true(has_warning(&w, "invalid storage ID 'Bad_ID'"));
	storage_cfg_release(&sc);
	strvec_clear(&w);
}

/* ---- replication.cfg ---- */

static void test_comment_encoding(void **state)
{
	struct strbuf sb = STRBUF_INIT, back = STRBUF_INIT;

	(void)state;
	comment_encode("DB: nightly copy 100% \t\x01~\x7f\xc3\xa9", &sb);
	assert_string_equal(sb.buf, "DB%3A nightly copy 100%25 %09%01~%7F%C3%A9");
	comment_decode(sb.buf, &back);
	assert_string_equal(back.buf, "DB: nightly copy 100% \t\x01~\x7f\xc3\xa9");
	/* every byte 1..255 survives the round trip; literal ranges stay */
	strbuf_reset(&sb);
	strbuf_reset(&back);
	char all[256];
	for (int i = 1; i < 256; i++)
		all[i - 1] = (char)i;
	all[255] = '\0';
	comment_encode(all, &sb);
	for (const char *p = sb.buf; *p; p++)
		assert_true(*p >= 0x20 && *p <= 0x7e && *p != ':');
	comment_decode(sb.buf, &back);
	assert_string_equal(back.buf, all);
	/* uri_unescape keeps malformed escapes */
	strbuf_reset(&back);
	comment_decode("50%%zz%4", &back);
	assert_string_equal(back.buf, "50%%zz%4");
	strbuf_reset(&back);
	comment_decode("a%3ab%00", &back);
	assert_string_equal(back.buf, "a:b%00");
	strbuf_release(&sb);
	strbuf_release(&back);
}

static void test_job_id(void **state)
{
	struct strbuf c = STRBUF_INIT, e = STRBUF_INIT;
	uint32_t g = 0, j = 0;

	(void)state;
	assert_int_equal(job_id_parse("100-0", &c, &g, &j, &e), 0);
	assert_string_equal(c.buf, "100-0");
	assert_int_equal(g, 100);
	assert_int_equal(j, 0);
	assert_int_equal(job_id_parse("999999999-007", &c, &g, &j, &e), 0);
	assert_string_equal(c.buf, "999999999-7");
	assert_int_equal(job_id_parse("99-0", &c, NULL, NULL, &e), -EINVAL);
	assert_string_equal(e.buf, "invalid replication job id '99-0' (guest IDs < 100 are reserved)");
	static const char *const bad[] = { "0100-0", "100", "100-", "-1", "abc-1", "100-1-2", "1000000000-0",
					   "100-1234567890", "100-x", "", " 100-0", NULL };
	for (const char *const *b = bad; *b; b++) {
		strbuf_reset(&e);
		assert_int_equal(job_id_parse(*b, &c, NULL, NULL, &e), -EINVAL);
		assert_non_null(strstr(e.buf, "invalid replication job id '"));
	}
	strbuf_release(&c);
	strbuf_release(&e);
}

static void test_job_options(void **state)
{
	struct repl_job job = { 0 };
	struct strbuf e = STRBUF_INIT;

	(void)state;
	assert_int_equal(job_set_option(&job, "rate", "2.5", &e), 0);
	assert_true(job.rate_mbps == 2.5);
	assert_int_equal(job_set_option(&job, "rate", "0.5", &e), -EINVAL);
	assert_string_equal(e.buf, "invalid rate '0.5' - value must have a minimum value of 1");
	assert_string_equal(job.rate, "2.5");
	strbuf_reset(&e);
	assert_int_equal(job_set_option(&job, "rate", "fast", &e), -EINVAL);
	assert_string_equal(e.buf, "invalid rate 'fast' - type check ('number') failed: expected a number of "
				  "megabytes per second (MB/s), at least 1, e.g. 50 or 12.5");
	strbuf_reset(&e);
	assert_int_equal(job_set_option(&job, "schedule", "*/61", &e), -EINVAL);
	assert_string_equal(e.buf, "invalid calendar event '*/61' - repetition '61' out of range");
	strbuf_reset(&e);
	assert_int_equal(job_set_option(&job, "schedule", "mon..fri 22:30", &e), 0);
	assert_int_equal(job_set_option(&job, "remove_job", "all", &e), -EINVAL);
	assert_string_equal(e.buf, "invalid remove_job 'all' - value 'all' does not have a value in the enumeration 'local, full'");
	strbuf_reset(&e);
	assert_int_equal(job_set_option(&job, "compress", "gzip", &e), -EINVAL);
	assert_string_equal(e.buf, "invalid compress 'gzip' - value 'gzip' does not have a value in the enumeration 'none, zstd, lz4'");
	assert_null(job.compress);
	assert_int_equal(job_set_option(&job, "compress", "zstd", &e), 0);
	assert_string_equal(job.compress, "zstd");
	assert_int_equal(job_delete_option(&job, "compress", &e), 0);
	assert_null(job.compress);
	strbuf_reset(&e);
	assert_int_equal(job_set_option(&job, "keep", "101", &e), -EINVAL);
	assert_string_equal(e.buf, "invalid keep '101' - expected a number of snapshots, 0..100");
	assert_int_equal(job_set_option(&job, "keep", "-1", &e), -EINVAL);
	assert_int_equal(job_set_option(&job, "keep", "2x", &e), -EINVAL);
	assert_int_equal(job.keep, 0);
	assert_int_equal(job_set_option(&job, "keep", "3", &e), 0);
	assert_int_equal(job.keep, 3);
	assert_int_equal(job_delete_option(&job, "keep", &e), 0);
	assert_int_equal(job.keep, 0);
	strbuf_reset(&e);
	assert_int_equal(job_set_option(&job, "raw", "yes", &e), -EINVAL);
	assert_string_equal(e.buf, "invalid raw 'yes' - type check ('boolean') failed: expected 0 or 1");
	assert_int_equal(job.raw, 0);
	assert_int_equal(job_set_option(&job, "raw", "1", &e), 0);
	assert_int_equal(job.raw, 1);
	assert_int_equal(job_delete_option(&job, "raw", &e), 0);
	assert_int_equal(job.raw, 0);
	strbuf_reset(&e);
	assert_int_equal(job_set_option(&job, "target", "-oX", &e), -EINVAL);
	assert_string_equal(e.buf, "invalid target '-oX' - value does not look like a valid node name");
	strbuf_reset(&e);
	assert_int_equal(job_set_option(&job, "disable", "yes", &e), -EINVAL);
	strbuf_reset(&e);
	assert_int_equal(job_set_option(&job, "guest", "100", &e), -ENOENT);
	strbuf_reset(&e);
	char *longc = malloc(JOB_COMMENT_MAX + 2);
	memset(longc, 'x', JOB_COMMENT_MAX + 1);
	longc[JOB_COMMENT_MAX + 1] = '\0';
	assert_int_equal(job_set_option(&job, "comment", longc, &e), -EINVAL);
	longc[JOB_COMMENT_MAX] = '\0';
	assert_int_equal(job_set_option(&job, "comment", longc, &e), 0);
	free(longc);
	strbuf_reset(&e);
	assert_int_equal(job_delete_option(&job, "target", &e), -EINVAL);
	assert_string_equal(e.buf, "unable to delete required option 'target'");
	strbuf_reset(&e);
	assert_int_equal(job_delete_option(&job, "bogus", &e), -ENOENT);
	assert_string_equal(e.buf, "no such option 'bogus'");
	assert_int_equal(job_delete_option(&job, "rate", &e), 0);
	assert_null(job.rate);
	free(job.schedule);
	free(job.comment);
	strbuf_release(&e);
}

static void test_jobs_parse_write(void **state)
{
	static const char text[] = "LOCAL: 0100-01\n"
				   "\ttarget pve2\n"
				   "\tcomment DB%3A nightly%0Acopy\n"
				   "\trate 0.5\n"
				   "\tbogus 1\n"
				   "\tschedule */5\n"
				   "\n"
				   "local: 50-0\n\ttarget pve2\n\n"
				   "local: 100-10\n\ttarget pve3\n\n"
				   "local: 100-2\n\ttarget pve3\n\tdisable\n\n"
				   "local: 101-0\n\tschedule */5\n\n"
				   "local: 102-0\n\ttarget -x\n\n"
				   "local: 103-0\n\ttarget pve2\n\tsource pve1\n\tkeep 2\n\tcompress lz4\n\tremove_job full\n\n"
				   "remote: 104-0\n\ttarget pve2\n\n";
	static const char want[] = "local: 100-1\n"
				   "\tcomment DB%3A nightly%0Acopy\n"
				   "\ttarget pve2\n"
				   "\tschedule */5\n"
				   "\n"
				   "local: 100-10\n"
				   "\ttarget pve3\n"
				   "\n"
				   "local: 103-0\n"
				   "\ttarget pve2\n"
				   "\tcompress lz4\n"
				   "\tkeep 2\n"
				   "\tremove_job full\n"
				   "\tsource pve1\n"
				   "\n";
	struct jobs_cfg jc = { 0 }, jc2 = { 0 };
	struct strvec w = STRVEC_INIT;
	struct strbuf out = STRBUF_INIT, out2 = STRBUF_INIT, e = STRBUF_INIT;
	struct repl_job *j;

	(void)state;
	assert_int_equal(jobs_cfg_parse(&jc, text, strlen(text), &w), 0);
	assert_int_equal(jc.nr, 3);
	j = jobs_cfg_find(&jc, "100-1");
	assert_non_null(j);
	assert_int_equal(j->guest, 100);
	assert_int_equal(j->jobnum, 1);
	assert_string_equal(j->comment, "DB: nightly\ncopy");
	assert_null(j->rate);
	assert_int_equal(jobs_cfg_find(&jc, "103-0")->remove_job, REMOVE_FULL);
	assert_string_equal(jobs_cfg_find(&jc, "103-0")->compress, "lz4");
	assert_int_equal(jobs_cfg_find(&jc, "103-0")->keep, 2);
	assert_true(has_warning(&w, "file replication.cfg line 4 (section '100-1') - unable to parse value of 'rate': invalid rate '0.5' - value must have a minimum value of 1"));
	assert_true(has_warning(&w, "unable to parse value of 'bogus': unexpected property 'bogus'"));
	assert_true(has_warning(&w, "(skip section '50-0'): invalid replication job id '50-0' (guest IDs < 100 are reserved)"));
	assert_true(has_warning(&w, "(skip section '101-0'): missing value for required option 'target'"));
	assert_true(has_warning(&w, "(skip section '102-0'): invalid target '-x'"));
	assert_true(has_warning(&w, "ignore config line: remote: 104-0"));
	/* "100-10" < "100-2" in string order: 100-2 goes */
	assert_true(has_warning(&w, "delete job 100-2: replication job for guest '100' to target 'local/pve3' already exists"));
	assert_null(jobs_cfg_find(&jc, "100-2"));
	assert_string_equal(jc.digest, "e9cb227598f05184b075bc5836a6faa768ac1fdf");
	assert_int_equal(jobs_cfg_format(&jc, &out, &e), 0);
	assert_string_equal(out.buf, want);
	assert_int_equal(jobs_cfg_parse(&jc2, out.buf, out.len, NULL), 0);
	assert_int_equal(jobs_cfg_format(&jc2, &out2, &e), 0);
	assert_string_equal(out.buf, out2.buf);
	/* writer refuses a second job for one guest and target */
	jobs_cfg_add(&jc, "100-7", "pve2");
	strbuf_reset(&out);
	assert_int_equal(jobs_cfg_format(&jc, &out, &e), -EEXIST);
	assert_string_equal(e.buf, "replication job for guest '100' to target 'local/pve2' already exists");
	assert_int_equal(jobs_cfg_remove(&jc, "100-7"), 1);
	assert_int_equal(jobs_cfg_remove(&jc, "100-7"), 0);
	struct repl_job **of;
	assert_int_equal(jobs_cfg_of_guest(&jc, 100, &of), 2);
	assert_string_equal(of[0]->id, "100-1");
	assert_string_equal(of[1]->id, "100-10");
	free(of);
	jobs_cfg_release(&jc);
	jobs_cfg_release(&jc2);
	strvec_clear(&w);
	strbuf_release(&out);
	strbuf_release(&out2);
	strbuf_release(&e);
}

static void test_jobs_empty_digest(void **state)
{
	struct jobs_cfg jc = { 0 };

	(void)state;
	assert_int_equal(jobs_cfg_parse(&jc, "", 0, NULL), 0);
	assert_string_equal(jc.digest, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	jobs_cfg_release(&jc);
}

/* ---- guest configs ---- */

static const char storage_text[] = "zfspool: local-zfs\n\tpool rpool/data\n\n"
				   "btrfs: local-btrfs\n\tpath /mnt/btrfs\n\n"
				   "dir: local\n\tpath /var/lib/vz\n\n"
				   "rbd: ceph\n\tpool vms\n\n"
				   "dir: nfsdir\n\tpath /mnt/nfs\n\tshared 1\n\n";

static int vols_of(enum guest_type t, uint32_t vmid, const char *conf, unsigned flags, struct strbuf *res)
{
	struct storage_cfg sc = { 0 };
	struct guest_conf gc = GUEST_CONF_INIT;
	struct volume_list vl = { 0 };
	int r;

	assert_int_equal(storage_cfg_parse(&sc, storage_text, strlen(storage_text), NULL), 0);
	assert_int_equal(guest_conf_parse(&gc, "VM", conf, strlen(conf), NULL), 0);
	strbuf_reset(res);
	r = guest_replicatable_volumes(&sc, vmid, t, &gc, flags, &vl, res);
	for (size_t i = 0; r == 0 && i < vl.nr; i++)
		strbuf_addf(res, "%s%s", i ? " " : "", vl.v[i].volid);
	volume_list_release(&vl);
	guest_conf_release(&gc);
	storage_cfg_release(&sc);
	return r;
}

static void test_guest_conf_parse(void **state)
{
	static const char text[] = "# description line\n"
				   "name: db1\n"
				   "scsi0:   local-zfs:vm-100-disk-0,size=8G  \n"
				   "Bad: line\n"
				   "nocolon\n"
				   "name: db2\n"
				   "\n"
				   "[snap1]\n"
				   "scsi1: local-zfs:vm-100-disk-9\n";
	struct guest_conf gc = GUEST_CONF_INIT;
	struct strvec w = STRVEC_INIT;

	(void)state;
	assert_int_equal(guest_conf_parse(&gc, "VM 100", text, strlen(text), &w), 0);
	assert_string_equal(guest_conf_get(&gc, "scsi0"), "local-zfs:vm-100-disk-0,size=8G");
	assert_string_equal(guest_conf_get(&gc, "name"), "db2");
	assert_null(guest_conf_get(&gc, "scsi1"));
	assert_int_equal(w.nr, 2);
	assert_true(has_warning(&w, "VM 100 line 4 (ignored; expected 'key: value') - unable to parse config: Bad: line"));
	guest_conf_release(&gc);
	strvec_clear(&w);
}

static void test_guest_volumes_vm(void **state)
{
	struct strbuf res = STRBUF_INIT;

	(void)state;
	assert_int_equal(vols_of(GUEST_QEMU, 100,
				 "scsi0: local-zfs:vm-100-disk-0,size=8G\n"
				 "virtio1: file=local-btrfs:100/vm-100-disk-1.raw,size=4G\n"
				 "ide2: local:iso/debian.iso,media=cdrom\n"
				 "ide0: none,media=cdrom\n"
				 "sata0: ceph:vm-100-disk-2\n"
				 "sata1: nfsdir:100/vm-100-disk-3.qcow2\n"
				 "scsi3: local-zfs:vm-100-disk-4,replicate=0\n"
				 "scsi5: local-zfs:base-90-disk-0\n"
				 "efidisk0: local-zfs:vm-100-disk-6,efitype=4m\n"
				 "tpmstate0: local-zfs:vm-100-disk-7,version=v2.0\n"
				 "unused0: local-zfs:vm-100-disk-8\n"
				 "scsi31: local-zfs:vm-100-disk-99\n"
				 "net0: virtio=AA:BB:CC:DD:EE:FF,bridge=vmbr0\n",
				 0, &res), 0);
	assert_string_equal(res.buf, "local-btrfs:100/vm-100-disk-1.raw "
				     "local-zfs:vm-100-disk-0 local-zfs:vm-100-disk-6 local-zfs:vm-100-disk-7 "
				     "local-zfs:vm-100-disk-8");
	/* cleanup includes replicate=0 disks */
	assert_int_equal(vols_of(GUEST_QEMU, 100, "scsi3: local-zfs:vm-100-disk-4,replicate=0\n", GUEST_VOL_CLEANUP, &res), 0);
	assert_string_equal(res.buf, "local-zfs:vm-100-disk-4");
	assert_int_equal(vols_of(GUEST_QEMU, 100, "scsi3: local-zfs:vm-100-disk-4,replicate=0\n", 0, &res), 0);
	assert_string_equal(res.buf, "");
	/* errors */
	/* the backend's grammar decides: a linked clone of a zfs template, a
	 * btrfs volume without its <vmid>/ directory */
	assert_int_equal(vols_of(GUEST_QEMU, 100, "scsi4: local-zfs:base-90-disk-0/vm-100-disk-5\n", 0, &res), -EINVAL);
	assert_non_null(strstr(res.buf, "invalid volume name 'base-90-disk-0/vm-100-disk-5' of volume "
					"'local-zfs:base-90-disk-0/vm-100-disk-5' - on zfspool storage 'local-zfs' it must be"));
	assert_int_equal(vols_of(GUEST_QEMU, 100, "scsi4: local-btrfs:vm-100-disk-5.raw\n", 0, &res), -EINVAL);
	assert_non_null(strstr(res.buf, ", here 'local-btrfs:100/vm-100-disk-5.raw'"));
	assert_int_equal(vols_of(GUEST_LXC, 100, "rootfs: local-btrfs:100/subvol-100-disk-5.raw\n", 0, &res), -EINVAL);
	assert_non_null(strstr(res.buf, ", here 'local-btrfs:100/subvol-100-disk-5'"));
	assert_int_equal(vols_of(GUEST_QEMU, 100, "scsi0: local:100/vm-100-disk-0.qcow2\n", 0, &res), -EINVAL);
	assert_string_equal(res.buf, "missing replicate feature on volume 'local:100/vm-100-disk-0.qcow2'");
	assert_int_equal(vols_of(GUEST_QEMU, 100, "scsi0: /dev/sdb\n", 0, &res), -EINVAL);
	assert_string_equal(res.buf, "unable to replicate local file/device '/dev/sdb'");
	assert_int_equal(vols_of(GUEST_QEMU, 100, "scsi0: /dev/sdb,replicate=0\n", 0, &res), 0);
	assert_int_equal(vols_of(GUEST_QEMU, 100, "scsi0: gone:vm-100-disk-0\n", 0, &res), -EINVAL);
	assert_string_equal(res.buf, "storage 'gone' does not exist");
	assert_int_equal(vols_of(GUEST_QEMU, 100, "scsi0: local-zfs:../../etc\n", 0, &res), -EINVAL);
	assert_int_equal(vols_of(GUEST_QEMU, 100, "scsi0: local-btrfs:101/vm-100-disk-0.raw\n", 0, &res), -EINVAL);
	assert_int_equal(vols_of(GUEST_QEMU, 100, "scsi0: garbage\n", 0, &res), -EINVAL);
	assert_string_equal(res.buf, "unable to parse volume ID 'garbage'");
	/* errors are ignored for cleanup */
	assert_int_equal(vols_of(GUEST_QEMU, 100, "scsi0: /dev/sdb\nscsi1: local:100/vm-100-disk-0.qcow2\nscsi2: local-zfs:vm-100-disk-1\n",
				 GUEST_VOL_CLEANUP, &res), 0);
	assert_string_equal(res.buf, "local-zfs:vm-100-disk-1");
	/* another guest's disk is not ours */
	assert_int_equal(vols_of(GUEST_QEMU, 100, "scsi0: local-zfs:vm-101-disk-0\n", 0, &res), 0);
	assert_string_equal(res.buf, "");
	strbuf_release(&res);
}

/* Volumes only a snapshot, a pending change or a saved VM state refers
 * to go along: a rollback on the target needs them (foreach_volid). */
static void test_guest_volumes_sections(void **state)
{
	struct strbuf res = STRBUF_INIT;

	(void)state;
	assert_int_equal(vols_of(GUEST_QEMU, 100,
				 "scsi0: local-zfs:vm-100-disk-0,size=8G\n"
				 "ide2: local-zfs:vm-100-disk-5,media=cdrom\n"
				 "scsi4: local-zfs:vm-100-disk-6,replicate=0\n"
				 "\n[PENDING]\n"
				 "scsi1: local-zfs:vm-100-disk-1,size=1G\n"
				 "delete: scsi9\n"
				 "\n[before-upgrade]\n"
				 "scsi2: local-btrfs:100/vm-100-disk-2.raw,size=1G\n"
				 "vmstate: local-zfs:vm-100-state-before-upgrade\n"
				 "ide2: local-zfs:vm-100-disk-5\n"
				 "scsi4: local-zfs:vm-100-disk-6\n"
				 "unused0: local-zfs:vm-100-disk-7\n"
				 "\n[special:cloudinit]\n"
				 "scsi3: local-zfs:vm-100-disk-3\n",
				 0, &res), 0);
	/* disk-5: a cdrom now but a disk in the snapshot; disk-6: replicate=0
	 * now but replicated in the snapshot; disk-3: cloud-init state, not a
	 * snapshot */
	assert_string_equal(res.buf, "local-btrfs:100/vm-100-disk-2.raw local-zfs:vm-100-disk-0 "
				     "local-zfs:vm-100-disk-1 local-zfs:vm-100-disk-5 local-zfs:vm-100-disk-6 "
				     "local-zfs:vm-100-disk-7 local-zfs:vm-100-state-before-upgrade");
	/* the snapshot's bad volume is an error too */
	assert_int_equal(vols_of(GUEST_QEMU, 100, "scsi0: local-zfs:vm-100-disk-0\n[s1]\nscsi1: local:100/vm-100-disk-1.qcow2\n",
				 0, &res), -EINVAL);
	assert_string_equal(res.buf, "missing replicate feature on volume 'local:100/vm-100-disk-1.qcow2'");
	/* containers: rootfs/mpN of snapshots count, their unusedN and
	 * pending do not (pve-container) */
	assert_int_equal(vols_of(GUEST_LXC, 200,
				 "rootfs: local-zfs:subvol-200-disk-0,size=8G\n"
				 "[snap]\n"
				 "mp0: local-btrfs:200/subvol-200-disk-1,mp=/a\n"
				 "unused0: local-zfs:subvol-200-disk-2\n",
				 0, &res), 0);
	assert_string_equal(res.buf, "local-btrfs:200/subvol-200-disk-1 local-zfs:subvol-200-disk-0");
	strbuf_release(&res);
}

static void test_guest_disk_like_keys(void **state)
{
	static const char text[] = "scsi0: local-zfs:vm-100-disk-0\nscsi31: local-zfs:vm-100-disk-1\n"
				   "mp0: local-zfs:subvol-100-disk-2\nscsihw: virtio-scsi-pci\nunused256: x\n";
	struct guest_conf gc = GUEST_CONF_INIT;
	struct strvec w = STRVEC_INIT;

	(void)state;
	assert_int_equal(guest_conf_parse(&gc, "VM 100", text, strlen(text), NULL), 0);
	guest_conf_check_keys(&gc, GUEST_QEMU, "VM 100", &w);
	assert_int_equal(w.nr, 2);
	assert_true(has_warning(&w, "VM 100 - 'scsi31' is not a disk key of a VM (scsi0-scsi30, "));
	assert_true(has_warning(&w, "VM 100 - 'unused256' is not a disk key"));
	strvec_clear(&w);
	guest_conf_check_keys(&gc, GUEST_LXC, "CT 100", &w);
	assert_int_equal(w.nr, 1);
	assert_true(has_warning(&w, "CT 100 - 'unused256' is not a disk key of a container (rootfs, mp0-mp255, unused0-unused255)"));
	strvec_clear(&w);
	guest_conf_release(&gc);
}

static void test_guest_volumes_ct(void **state)
{
	struct strbuf res = STRBUF_INIT;

	(void)state;
	assert_int_equal(vols_of(GUEST_LXC, 200,
				 "rootfs: local-zfs:subvol-200-disk-0,size=8G\n"
				 "mp0: local-zfs:subvol-200-disk-1,mp=/a,replicate=0\n"
				 "mp1: volume=local-btrfs:200/subvol-200-disk-2,mp=/b\n"
				 "mp2: /srv/x,mp=/c,replicate=0\n"
				 "scsi0: local-zfs:vm-200-disk-9\n",
				 0, &res), 0);
	assert_string_equal(res.buf, "local-btrfs:200/subvol-200-disk-2 local-zfs:subvol-200-disk-0");
	assert_int_equal(vols_of(GUEST_LXC, 200, "rootfs: local-zfs:subvol-200-disk-0\nmp0: /srv/x,mp=/c\n", 0, &res), -EINVAL);
	assert_string_equal(res.buf, "unable to replicate mountpoint type 'bind'");
	assert_int_equal(vols_of(GUEST_LXC, 200, "mp0: /dev/sdc,mp=/c\n", 0, &res), -EINVAL);
	assert_string_equal(res.buf, "unable to replicate mountpoint type 'device'");
	strbuf_release(&res);
}

static void test_volname_parse(void **state)
{
	uint32_t o;
	int img;

	(void)state;
	assert_int_equal(volname_parse(storage_type_of(BACKEND_ZFSPOOL), "vm-100-disk-0", &o, &img), 0);
	assert_int_equal(o, 100);
	assert_int_equal(volname_parse(storage_type_of(BACKEND_ZFSPOOL), "subvol-12345-disk-3", &o, &img), 0);
	assert_int_equal(o, 12345);
	assert_int_equal(volname_parse(storage_type_of(BACKEND_ZFSPOOL), "vm-100", &o, &img), -EINVAL);
	assert_int_equal(volname_parse(storage_type_of(BACKEND_ZFSPOOL), "-vm-100-disk-0", &o, &img), -EINVAL);
	assert_int_equal(volname_parse(storage_type_of(BACKEND_ZFSPOOL), "vm-100-disk-0/x", &o, &img), -EINVAL);
	assert_int_equal(volname_parse(storage_type_of(BACKEND_BTRFS), "100/vm-100-disk-0.raw", &o, &img), 0);
	assert_int_equal(o, 100);
	assert_int_equal(volname_parse(storage_type_of(BACKEND_BTRFS), "subvol-200-disk-0", &o, &img), 0);
	assert_int_equal(o, 200);
	assert_int_equal(volname_parse(storage_type_of(BACKEND_BTRFS), "x/vm-100-disk-0.raw", &o, &img), -EINVAL);
	/* a btrfs directory names the owner */
	assert_int_equal(volname_parse(storage_type_of(BACKEND_BTRFS), "100/vm-101-disk-0.raw", &o, &img), -EINVAL);
	assert_int_equal(volname_parse(NULL, "iso/debian.iso", &o, &img), 0);
	assert_int_equal(img, 0);
	/* the table of storage types (backend/types.h) */
	assert_ptr_equal(storage_type_find("zfspool"), storage_type_of(BACKEND_ZFSPOOL));
	assert_ptr_equal(storage_type_find("btrfs"), storage_type_of(BACKEND_BTRFS));
	assert_null(storage_type_find("lvmthin"));
	assert_null(storage_type_of(BACKEND_NTYPES));
	assert_int_equal(storage_type_any_owner("200/subvol-200-disk-0", &o), 0);
	assert_int_equal(o, 200);
	assert_int_equal(storage_type_any_owner("base-100-disk-0/vm-300-disk-0", &o), 0);
	assert_int_equal(o, 300);
	assert_int_equal(storage_type_any_owner("iso/debian.iso", &o), -EINVAL);
}

/* ---- the whole directory ---- */

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(write_file_atomic(path, text, strlen(text), 0644), 0);
}

static int set_rate_fn(struct jobs_cfg *jc, void *data, struct strbuf *err)
{
	(void)data;
	return job_set_option(&jc->v[0], "rate", "7", err) < 0 ? -EINVAL : 1;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void test_cluster_load(void **state)
{
	char dir[] = "/tmp/volrep-test-config.XXXXXX";
	struct cluster_config cc = CLUSTER_CONFIG_INIT;
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT;
	const struct guest *g;

	(void)state;
	assert_non_null(mkdtemp(dir));
	strbuf_addf(&path, "%s/nodes/pve1/qemu-server", dir);
	assert_int_equal(mkdir_p(path.buf, 0755), 0);
	strbuf_reset(&path);
	strbuf_addf(&path, "%s/nodes/pve2/lxc", dir);
	assert_int_equal(mkdir_p(path.buf, 0755), 0);
	strbuf_reset(&path);
	strbuf_addf(&path, "%s/nodes/pve2/qemu-server", dir);
	assert_int_equal(mkdir_p(path.buf, 0755), 0);
	write_file(dir, "nodes.cfg", "node: pve1\n\nnode: pve2\n");
	write_file(dir, "storage.cfg", storage_text);
	write_file(dir, "replication.cfg", "local: 100-0\n\ttarget pve2\n");
	write_file(dir, "nodes/pve1/qemu-server/100.conf", "scsi0: local-zfs:vm-100-disk-0\n");
	write_file(dir, "nodes/pve1/qemu-server/101.conf", "scsi0: local:101/vm-101-disk-0.qcow2\n");
	write_file(dir, "nodes/pve2/lxc/200.conf", "rootfs: local-zfs:subvol-200-disk-0\n");
	write_file(dir, "nodes/pve2/qemu-server/100.conf", "scsi0: local-zfs:vm-100-disk-0\n");
	write_file(dir, "nodes/pve2/qemu-server/99.conf", "");
	write_file(dir, "nodes/pve2/qemu-server/notes.txt", "");

	assert_int_equal(cluster_config_load(&cc, dir, CLUSTER_LOAD_VOLUMES, &err), 0);
	assert_int_equal(cc.nodes.nr, 2);
	assert_int_equal(cc.storages.nr, 5);
	assert_int_equal(cc.jobs.nr, 1);
	assert_int_equal(cc.guests.nr, 3);
	g = guests_find(&cc.guests, 100);
	assert_string_equal(g->node, "pve1");
	assert_int_equal(g->type, GUEST_QEMU);
	assert_int_equal(g->volumes.nr, 1);
	assert_string_equal(g->volumes.v[0].storage, "local-zfs");
	assert_string_equal(g->volumes.v[0].volname, "vm-100-disk-0");
	assert_null(g->vol_error);
	g = guests_find(&cc.guests, 101);
	assert_string_equal(g->vol_error, "missing replicate feature on volume 'local:101/vm-101-disk-0.qcow2'");
	g = guests_find(&cc.guests, 200);
	assert_string_equal(g->node, "pve2");
	assert_string_equal(guest_type_name(g->type), "lxc");
	assert_null(guests_find(&cc.guests, 99));
	assert_true(has_warning(&cc.warnings, "guest 100: ignoring config"));
	cluster_config_release(&cc);

	/* read-modify-write under the lock */
	assert_int_equal(jobs_cfg_modify(dir, set_rate_fn, NULL, NULL, &err), 1);
	struct jobs_cfg jc = { 0 };
	assert_int_equal(jobs_cfg_load(&jc, dir, NULL), 0);
	assert_string_equal(jc.v[0].rate, "7");
	jobs_cfg_release(&jc);

	/* an oversized file is an error, not a truncated read */
	char *big = malloc(SECTIONCFG_MAX_FILE + 2);
	memset(big, '#', SECTIONCFG_MAX_FILE + 1);
	big[SECTIONCFG_MAX_FILE + 1] = '\0';
	write_file(dir, "storage.cfg", big);
	free(big);
	struct cluster_config cc2 = CLUSTER_CONFIG_INIT;
	strbuf_reset(&err);
	assert_int_equal(cluster_config_load(&cc2, dir, 0, &err), -EFBIG);
	assert_non_null(strstr(err.buf, "storage.cfg"));
	cluster_config_release(&cc2);

	/* the lock times out while someone else holds it */
	struct lock lk = LOCK_INIT, lk2 = LOCK_INIT;
	strbuf_reset(&err);
	assert_int_equal(config_dir_lock(dir, &lk, 0, &err), 0);
	pid_t pid = fork();
	if (pid == 0)
		_exit(config_dir_lock(dir, &lk2, 50, &err) == -ETIMEDOUT ? 0 : 1);
	int status = -1;
	waitpid(pid, &status, 0);
	assert_int_equal(status, 0);
	lock_release(&lk);

	assert_int_equal(nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
	strbuf_release(&err);
	strbuf_release(&path);
}

/* An empty config directory: no guests, no jobs, and no qsort(NULL, 0)
 * on the way (undefined behaviour: UBSan in the ASan build aborts). */
static void test_cluster_load_empty(void **state)
{
	char dir[] = "/tmp/volrep-unit-emptycfg.XXXXXX";
	struct cluster_config cc = CLUSTER_CONFIG_INIT;
	struct strbuf err = STRBUF_INIT, sub = STRBUF_INIT;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(cluster_config_load(&cc, dir, CLUSTER_LOAD_VOLUMES, &err), 0);
	assert_int_equal(cc.guests.nr, 0);
	assert_int_equal(cc.jobs.nr, 0);
	cluster_config_release(&cc);
	/* a node directory without guests */
	strbuf_addf(&sub, "%s/nodes/pve1/qemu-server", dir);
	assert_int_equal(mkdir_p(sub.buf, 0755), 0);
	cc = (struct cluster_config)CLUSTER_CONFIG_INIT;
	assert_int_equal(cluster_config_load(&cc, dir, CLUSTER_LOAD_VOLUMES, &err), 0);
	assert_int_equal(cc.guests.nr, 0);
	cluster_config_release(&cc);
	rmdir(sub.buf);
	strbuf_setlen(&sub, sub.len - strlen("/qemu-server"));
	rmdir(sub.buf);
	strbuf_setlen(&sub, sub.len - strlen("/pve1"));
	rmdir(sub.buf);
	assert_int_equal(rmdir(dir), 0);
	strbuf_release(&err);
	strbuf_release(&sub);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sc_parse_basic),
		cmocka_unit_test(test_sc_parse_warnings),
		cmocka_unit_test(test_sc_limits),
		cmocka_unit_test(test_sc_writer_layout),
		cmocka_unit_test(test_sc_edit),
		cmocka_unit_test(test_nodes),
		cmocka_unit_test(test_storage),
		cmocka_unit_test(test_comment_encoding),
		cmocka_unit_test(test_job_id),
		cmocka_unit_test(test_job_options),
		cmocka_unit_test(test_jobs_parse_write),
		cmocka_unit_test(test_jobs_empty_digest),
		cmocka_unit_test(test_guest_conf_parse),
		cmocka_unit_test(test_guest_volumes_vm),
		cmocka_unit_test(test_guest_volumes_ct),
		cmocka_unit_test(test_guest_volumes_sections),
		cmocka_unit_test(test_guest_disk_like_keys),
		cmocka_unit_test(test_volname_parse),
		cmocka_unit_test(test_cluster_load),
		cmocka_unit_test(test_cluster_load_empty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
