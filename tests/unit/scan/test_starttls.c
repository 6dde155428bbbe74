/* scan/scan_starttls.c: each protocol's preamble as a state machine, fed
 * the server's bytes as the RFCs show them (whole, and one byte at a time):
 * what the client sends, when TLS may start, and the errors for servers that
 * do not offer the upgrade, answer out of protocol, overflow the caps or send
 * bytes after the final reply (STARTTLS injection). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "scan/scan.h"

/* Feeds s (whole, or byte by byte) and returns the last result. */
static enum scan_starttls_result feed(struct scan_starttls *t, const char *s, size_t n, bool bytewise)
{
	enum scan_starttls_result r = SCAN_STARTTLS_NEED_MORE;

	if (!bytewise)
		return scan_starttls_feed(t, (const unsigned char *)s, n);
	for (size_t i = 0; i < n; i++) {
		r = scan_starttls_feed(t, (const unsigned char *)s + i, 1);
		if (r != SCAN_STARTTLS_NEED_MORE && i + 1 < n)
			fail_msg("decided after %zu of %zu bytes", i + 1, n);
	}
	return r;
}

static void expect_send(struct scan_starttls *t, enum scan_starttls_result r, const char *want)
{
	size_t len = 0;
	const unsigned char *out;

	assert_int_equal(r, SCAN_STARTTLS_SEND);
	out = scan_starttls_output(t, &len);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(out, want, len);
}

#define FEED(t, s, bw) feed((t), (s), sizeof(s) - 1, (bw))

static void smtp_run(bool bytewise)
{
	struct scan_starttls *t = scan_starttls_new(SCAN_STARTTLS_SMTP);

	assert_int_equal(scan_starttls_start(t, "mail.test"), SCAN_STARTTLS_NEED_MORE);
	/* RFC 5321 §4.2.1: a multi-line greeting */
	expect_send(t, FEED(t, "220-mail.test ESMTP\r\n220 ready\r\n", bytewise), "EHLO aclm.invalid\r\n");
	expect_send(t, FEED(t, "250-mail.test\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 8BITMIME\r\n", bytewise),
		    "STARTTLS\r\n");
	assert_int_equal(FEED(t, "220 2.0.0 Ready to start TLS\r\n", bytewise), SCAN_STARTTLS_DONE);
	scan_starttls_free(t);
}

static void test_smtp_upgrade_whole_and_bytewise(void **state)
{
	(void)state;
	smtp_run(false);
	smtp_run(true);
}

static void test_smtp_without_starttls_keyword(void **state)
{
	struct scan_starttls *t = scan_starttls_new(SCAN_STARTTLS_SMTP);

	(void)state;
	scan_starttls_start(t, NULL);
	FEED(t, "220 mail.test ESMTP\r\n", false);
	/* STARTTLSX and a keyword inside another line's text do not count */
	assert_int_equal(FEED(t, "250-mail.test says STARTTLS\r\n250-STARTTLSX\r\n250 SIZE 1000\r\n", false),
			 SCAN_STARTTLS_FAIL);
	assert_string_equal(scan_starttls_error(t), "smtp: STARTTLS not offered");
	assert_true(scan_starttls_not_offered(t));
	scan_starttls_free(t);
}

static void test_smtp_bad_greeting_and_refusal(void **state)
{
	struct scan_starttls *t = scan_starttls_new(SCAN_STARTTLS_SMTP);

	(void)state;
	scan_starttls_start(t, NULL);
	assert_int_equal(FEED(t, "554 no service\r\n", false), SCAN_STARTTLS_FAIL);
	assert_string_equal(scan_starttls_error(t), "smtp: greeting 554: '554 no service'");
	assert_false(scan_starttls_not_offered(t));
	scan_starttls_free(t);

	t = scan_starttls_new(SCAN_STARTTLS_SMTP);
	scan_starttls_start(t, NULL);
	FEED(t, "220 x\r\n", false);
	FEED(t, "250 STARTTLS\r\n", false);
	/* RFC 3207 §4: 454 TLS not available due to temporary reason */
	assert_int_equal(FEED(t, "454 4.7.0 TLS not available\r\n", false), SCAN_STARTTLS_FAIL);
	assert_true(scan_starttls_not_offered(t));
	scan_starttls_free(t);
}

static void test_injection_after_final_reply_is_refused(void **state)
{
	struct scan_starttls *t = scan_starttls_new(SCAN_STARTTLS_SMTP);

	(void)state;
	scan_starttls_start(t, NULL);
	FEED(t, "220 x\r\n", false);
	FEED(t, "250 STARTTLS\r\n", false);
	/* CVE-2011-0411: a reply and more plaintext in one segment */
	assert_int_equal(FEED(t, "220 go ahead\r\n250 injected\r\n", false), SCAN_STARTTLS_FAIL);
	assert_non_null(strstr(scan_starttls_error(t), "unexpected bytes"));
	scan_starttls_free(t);

	t = scan_starttls_new(SCAN_STARTTLS_POSTGRES);
	scan_starttls_start(t, NULL);
	/* CVE-2021-23222: bytes buffered after 'S' */
	assert_int_equal(FEED(t, "SX", false), SCAN_STARTTLS_FAIL);
	scan_starttls_free(t);
}

static void test_long_line_and_many_lines_are_capped(void **state)
{
	static char big[2048];
	struct scan_starttls *t = scan_starttls_new(SCAN_STARTTLS_SMTP);
	enum scan_starttls_result r = SCAN_STARTTLS_NEED_MORE;

	(void)state;
	memset(big, 'a', sizeof(big));
	scan_starttls_start(t, NULL);
	assert_int_equal(scan_starttls_feed(t, (const unsigned char *)big, sizeof(big)), SCAN_STARTTLS_FAIL);
	assert_non_null(strstr(scan_starttls_error(t), "longer than 1024"));
	scan_starttls_free(t);

	t = scan_starttls_new(SCAN_STARTTLS_FTP);
	scan_starttls_start(t, NULL);
	for (int i = 0; i < 1000 && r == SCAN_STARTTLS_NEED_MORE; i++)
		r = FEED(t, "220-more\r\n", false);
	assert_int_equal(r, SCAN_STARTTLS_FAIL);
	assert_non_null(strstr(scan_starttls_error(t), "lines"));
	scan_starttls_free(t);
}

static void test_imap_pop3_ftp(void **state)
{
	struct scan_starttls *t = scan_starttls_new(SCAN_STARTTLS_IMAP);

	(void)state;
	assert_int_equal(scan_starttls_start(t, NULL), SCAN_STARTTLS_NEED_MORE);
	expect_send(t, FEED(t, "* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n", true), "a1 STARTTLS\r\n");
	assert_int_equal(FEED(t, "* CAPABILITY IMAP4rev1\r\n", false), SCAN_STARTTLS_NEED_MORE);
	assert_int_equal(FEED(t, "a1 OK Begin TLS\r\n", true), SCAN_STARTTLS_DONE);
	scan_starttls_free(t);

	t = scan_starttls_new(SCAN_STARTTLS_IMAP);
	scan_starttls_start(t, NULL);
	FEED(t, "* OK ready\r\n", false);
	assert_int_equal(FEED(t, "a1 BAD unknown command\r\n", false), SCAN_STARTTLS_FAIL);
	assert_true(scan_starttls_not_offered(t));
	assert_string_equal(scan_starttls_error(t), "imap: STARTTLS not offered ('a1 BAD unknown command')");
	scan_starttls_free(t);

	t = scan_starttls_new(SCAN_STARTTLS_POP3);
	scan_starttls_start(t, NULL);
	expect_send(t, FEED(t, "+OK POP3 ready\r\n", true), "STLS\r\n");
	assert_int_equal(FEED(t, "+OK begin\r\n", true), SCAN_STARTTLS_DONE);
	scan_starttls_free(t);

	t = scan_starttls_new(SCAN_STARTTLS_POP3);
	scan_starttls_start(t, NULL);
	FEED(t, "+OK POP3 ready\r\n", false);
	assert_int_equal(FEED(t, "-ERR no\r\n", false), SCAN_STARTTLS_FAIL);
	assert_true(scan_starttls_not_offered(t));
	scan_starttls_free(t);

	t = scan_starttls_new(SCAN_STARTTLS_FTP);
	scan_starttls_start(t, NULL);
	expect_send(t, FEED(t, "220-welcome\r\n220 ready\r\n", true), "AUTH TLS\r\n");
	assert_int_equal(FEED(t, "234 AUTH TLS ok\r\n", true), SCAN_STARTTLS_DONE);
	scan_starttls_free(t);

	t = scan_starttls_new(SCAN_STARTTLS_FTP);
	scan_starttls_start(t, NULL);
	FEED(t, "220 ready\r\n", false);
	assert_int_equal(FEED(t, "502 not implemented\r\n", false), SCAN_STARTTLS_FAIL);
	assert_true(scan_starttls_not_offered(t));
	scan_starttls_free(t);
}

static void test_ldap_extended_request_and_results(void **state)
{
	static const unsigned char request[] = {
		0x30, 0x1d, 0x02, 0x01, 0x01, 0x77, 0x18, 0x80, 0x16, '1', '.', '3', '.', '6', '.', '1',
		'.', '4', '.', '1', '.', '1', '4', '6', '6', '.', '2', '0', '0', '3', '7',
	};
	/* success, with a responseName [10] after the LDAPResult */
	static const char ok[] = "\x30\x24\x02\x01\x01\x78\x1f\x0a\x01\x00\x04\x00\x04\x00"
				 "\x8a\x16" "1.3.6.1.4.1.1466.20037";
	static const char proto_error[] = "\x30\x0c\x02\x01\x01\x78\x07\x0a\x01\x02\x04\x00\x04\x00";
	static const char other_id[] = "\x30\x0c\x02\x01\x00\x78\x07\x0a\x01\x00\x04\x00\x04\x00";
	/* long-form length (0x81 0x0c) is BER too */
	static const char long_form[] = "\x30\x81\x0c\x02\x01\x01\x78\x07\x0a\x01\x00\x04\x00\x04\x00";
	struct scan_starttls *t = scan_starttls_new(SCAN_STARTTLS_LDAP);
	size_t len = 0;
	const unsigned char *out;

	(void)state;
	assert_int_equal(scan_starttls_start(t, NULL), SCAN_STARTTLS_SEND);
	out = scan_starttls_output(t, &len);
	assert_int_equal(len, sizeof(request));
	assert_memory_equal(out, request, sizeof(request));
	assert_int_equal(feed(t, ok, sizeof(ok) - 1, true), SCAN_STARTTLS_DONE);
	scan_starttls_free(t);

	t = scan_starttls_new(SCAN_STARTTLS_LDAP);
	scan_starttls_start(t, NULL);
	assert_int_equal(feed(t, proto_error, sizeof(proto_error) - 1, false), SCAN_STARTTLS_FAIL);
	assert_true(scan_starttls_not_offered(t));
	scan_starttls_free(t);

	t = scan_starttls_new(SCAN_STARTTLS_LDAP);
	scan_starttls_start(t, NULL);
	assert_int_equal(feed(t, other_id, sizeof(other_id) - 1, false), SCAN_STARTTLS_FAIL);
	assert_false(scan_starttls_not_offered(t));
	scan_starttls_free(t);

	t = scan_starttls_new(SCAN_STARTTLS_LDAP);
	scan_starttls_start(t, NULL);
	assert_int_equal(feed(t, long_form, sizeof(long_form) - 1, true), SCAN_STARTTLS_DONE);
	scan_starttls_free(t);

	t = scan_starttls_new(SCAN_STARTTLS_LDAP);
	scan_starttls_start(t, NULL);
	/* a length beyond the cap is refused before waiting for it */
	assert_int_equal(feed(t, "\x30\x83\x10\x00\x00", 5, false), SCAN_STARTTLS_FAIL);
	scan_starttls_free(t);
}

static void test_postgres_sslrequest(void **state)
{
	static const unsigned char request[] = { 0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f };
	struct scan_starttls *t = scan_starttls_new(SCAN_STARTTLS_POSTGRES);
	size_t len = 0;
	const unsigned char *out;

	(void)state;
	assert_int_equal(scan_starttls_start(t, NULL), SCAN_STARTTLS_SEND);
	out = scan_starttls_output(t, &len);
	assert_int_equal(len, 8);
	assert_memory_equal(out, request, 8);
	assert_int_equal(FEED(t, "S", false), SCAN_STARTTLS_DONE);
	scan_starttls_free(t);

	t = scan_starttls_new(SCAN_STARTTLS_POSTGRES);
	scan_starttls_start(t, NULL);
	assert_int_equal(FEED(t, "N", false), SCAN_STARTTLS_FAIL);
	assert_true(scan_starttls_not_offered(t));
	scan_starttls_free(t);
}

static void test_xmpp_stream_features(void **state)
{
	struct scan_starttls *t = scan_starttls_new(SCAN_STARTTLS_XMPP);
	size_t len = 0;
	const unsigned char *out;

	(void)state;
	assert_int_equal(scan_starttls_start(t, "chat.test"), SCAN_STARTTLS_SEND);
	out = scan_starttls_output(t, &len);
	assert_non_null(memmem(out, len, "to='chat.test'", 14));
	expect_send(t, FEED(t, "<?xml version='1.0'?><stream:stream from='chat.test' id='1' version='1.0' "
			       "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"
			       "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/>"
			       "</starttls></stream:features>", true),
		    "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
	assert_int_equal(FEED(t, "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", true), SCAN_STARTTLS_DONE);
	scan_starttls_free(t);

	t = scan_starttls_new(SCAN_STARTTLS_XMPP);
	scan_starttls_start(t, "chat.test");
	assert_int_equal(FEED(t, "<stream:stream><stream:features/>", false), SCAN_STARTTLS_FAIL);
	assert_string_equal(scan_starttls_error(t), "xmpp: STARTTLS not offered");
	scan_starttls_free(t);

	t = scan_starttls_new(SCAN_STARTTLS_XMPP);
	scan_starttls_start(t, "chat.test");
	FEED(t, "<stream:stream><stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features>", false);
	assert_int_equal(FEED(t, "<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", false), SCAN_STARTTLS_FAIL);
	scan_starttls_free(t);

	/* a domain that would break out of the attribute is not sent */
	t = scan_starttls_new(SCAN_STARTTLS_XMPP);
	assert_int_equal(scan_starttls_start(t, "a'><x"), SCAN_STARTTLS_FAIL);
	scan_starttls_free(t);
}

static void test_auto_picks_by_port(void **state)
{
	struct aclm_err err = { 0 };
	int mode = 99;

	(void)state;
	assert_int_equal(scan_starttls_for_port(SCAN_STARTTLS_AUTO, 25), SCAN_STARTTLS_SMTP);
	assert_int_equal(scan_starttls_for_port(SCAN_STARTTLS_AUTO, 587), SCAN_STARTTLS_SMTP);
	assert_int_equal(scan_starttls_for_port(SCAN_STARTTLS_AUTO, 143), SCAN_STARTTLS_IMAP);
	assert_int_equal(scan_starttls_for_port(SCAN_STARTTLS_AUTO, 110), SCAN_STARTTLS_POP3);
	assert_int_equal(scan_starttls_for_port(SCAN_STARTTLS_AUTO, 21), SCAN_STARTTLS_FTP);
	assert_int_equal(scan_starttls_for_port(SCAN_STARTTLS_AUTO, 389), SCAN_STARTTLS_LDAP);
	assert_int_equal(scan_starttls_for_port(SCAN_STARTTLS_AUTO, 5432), SCAN_STARTTLS_POSTGRES);
	assert_int_equal(scan_starttls_for_port(SCAN_STARTTLS_AUTO, 5222), SCAN_STARTTLS_XMPP);
	/* implicit TLS ports and the rest: no preamble */
	assert_int_equal(scan_starttls_for_port(SCAN_STARTTLS_AUTO, 465), SCAN_STARTTLS_NONE);
	assert_int_equal(scan_starttls_for_port(SCAN_STARTTLS_AUTO, 993), SCAN_STARTTLS_NONE);
	assert_int_equal(scan_starttls_for_port(SCAN_STARTTLS_AUTO, 995), SCAN_STARTTLS_NONE);
	assert_int_equal(scan_starttls_for_port(SCAN_STARTTLS_AUTO, 636), SCAN_STARTTLS_NONE);
	assert_int_equal(scan_starttls_for_port(SCAN_STARTTLS_AUTO, 443), SCAN_STARTTLS_NONE);
	/* an explicit protocol applies to every port, none to none */
	assert_int_equal(scan_starttls_for_port(SCAN_STARTTLS_IMAP, 443), SCAN_STARTTLS_IMAP);
	assert_int_equal(scan_starttls_for_port(SCAN_STARTTLS_NONE, 25), SCAN_STARTTLS_NONE);
	assert_int_equal(scan_starttls_parse("auto", &mode, &err), ACLM_OK);
	assert_int_equal(mode, SCAN_STARTTLS_AUTO);
	assert_int_equal(scan_starttls_parse("postgres", &mode, &err), ACLM_OK);
	assert_int_equal(mode, SCAN_STARTTLS_POSTGRES);
	assert_int_equal(scan_starttls_parse("gopher", &mode, &err), ACLM_ERR_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smtp_upgrade_whole_and_bytewise),
		cmocka_unit_test(test_smtp_without_starttls_keyword),
		cmocka_unit_test(test_smtp_bad_greeting_and_refusal),
		cmocka_unit_test(test_injection_after_final_reply_is_refused),
		cmocka_unit_test(test_long_line_and_many_lines_are_capped),
		cmocka_unit_test(test_imap_pop3_ftp),
		cmocka_unit_test(test_ldap_extended_request_and_results),
		cmocka_unit_test(test_postgres_sslrequest),
		cmocka_unit_test(test_xmpp_stream_features),
		cmocka_unit_test(test_auto_picks_by_port),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
