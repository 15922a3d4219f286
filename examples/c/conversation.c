/*
 * A conversation across three apps through sealwire's C ABI: sealed
 * envelopes through an in-memory relay, a group, and a restart of one
 * device from its encrypted SQLite store. Every allocation is freed:
 * .ci/run runs this under valgrind, which fails on any leak or invalid
 * access.
 *
 * Build (what .ci/c-example does):
 *   cargo build -p sealwire-ffi
 *   cc -Wall -Wextra -Werror -I ffi/include examples/c/conversation.c \
 *      target/debug/libsealwire_ffi.a -lpthread -ldl -lm -o target/c-conversation
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sealwire.h"

#define NOW 1796029200ull /* 2026-11-30 09:00 UTC, this program's clock */
#define YEAR (365ull * 24 * 3600)
#define MAX_DEVICES 8
#define MAX_MAIL 64

/* Stops the program with the error's text and action when a call fails. */
static void check(int32_t code, const char *what) {
    if (code == SEALWIRE_OK) return;
    sealwire_bytes detail = {0};
    sealwire_last_error_message(&detail);
    fprintf(stderr, "%s failed: %d %s (%.*s), action %d\n", what, code, sealwire_error_text(code),
            (int)detail.len, detail.ptr ? (const char *)detail.ptr : "", sealwire_error_action(code));
    sealwire_bytes_free(&detail);
    exit(1);
}

static sealwire_user user_of(const char *app, const char *user) {
    sealwire_user u = {(const uint8_t *)app, strlen(app), (const uint8_t *)user, strlen(user)};
    return u;
}

/* An app: its root and issuer keys, its issuer certificate. */
typedef struct {
    const char *id;
    sealwire_bytes root_secret, root_public, issuer_secret, issuer_public, issuer_certificate;
} app;

static void app_new(app *a, const char *id, sealwire_trust_store *trust) {
    memset(a, 0, sizeof *a);
    a->id = id;
    check(sealwire_certificate_key_generate(&a->root_secret, &a->root_public), "root key");
    check(sealwire_certificate_key_generate(&a->issuer_secret, &a->issuer_public), "issuer key");
    check(sealwire_issuer_certificate_issue(a->root_secret.ptr, a->root_secret.len,
                                            (const uint8_t *)id, strlen(id), 1,
                                            a->issuer_public.ptr, a->issuer_public.len,
                                            NOW - YEAR, NOW + YEAR, &a->issuer_certificate),
          "issuer certificate");
    sealwire_bytes root = {0};
    check(sealwire_trust_root_new((const uint8_t *)id, strlen(id), a->root_public.ptr,
                                  a->root_public.len, &root),
          "trust root");
    check(sealwire_trust_store_add_root(trust, root.ptr, root.len), "add root");
    sealwire_bytes_free(&root);
}

static void app_free(app *a) {
    sealwire_bytes_free(&a->root_secret);
    sealwire_bytes_free(&a->root_public);
    sealwire_bytes_free(&a->issuer_secret);
    sealwire_bytes_free(&a->issuer_public);
    sealwire_bytes_free(&a->issuer_certificate);
}

/* The relay: what each device published, the device lists, mailboxes. */
typedef struct {
    const char *app, *user;
    uint32_t device;
    sealwire_bytes identity;
    sealwire_publication *publication;
    size_t next_one_time;
    sealwire_bytes mail[MAX_MAIL];
    size_t mail_count;
} listing;

typedef struct {
    listing devices[MAX_DEVICES];
    size_t count;
    size_t delivered, bytes;
} relay;

static listing *relay_find(relay *r, const uint8_t *key, size_t len) {
    for (size_t i = 0; i < r->count; i++)
        if (r->devices[i].identity.len == len && memcmp(r->devices[i].identity.ptr, key, len) == 0)
            return &r->devices[i];
    return NULL;
}

/* Splits an upload and files each recipient's envelope. */
static void relay_upload(relay *r, const sealwire_bytes *upload) {
    size_t n = 0;
    check(sealwire_upload_count(upload->ptr, upload->len, &n), "upload count");
    for (size_t i = 0; i < n; i++) {
        sealwire_bytes to = {0}, envelope = {0};
        check(sealwire_upload_part(upload->ptr, upload->len, i, &to, &envelope), "upload part");
        listing *l = relay_find(r, to.ptr, to.len);
        if (l && l->mail_count < MAX_MAIL) {
            l->mail[l->mail_count++] = envelope;
            r->delivered++;
            r->bytes += envelope.len;
        } else {
            sealwire_bytes_free(&envelope);
        }
        sealwire_bytes_free(&to);
    }
}

/* A device: registered with its app and the relay. */
typedef struct {
    sealwire_device *handle;
    listing *listing;
    const char *name;
} client;

static void publish(relay *r, client *c) {
    sealwire_publication *p = NULL;
    check(sealwire_device_publication(c->handle, NOW, -1, &p), "publication");
    check(sealwire_device_mark_published(c->handle, p), "mark published");
    if (c->listing->publication) sealwire_publication_free(c->listing->publication);
    c->listing->publication = p;
    c->listing->next_one_time = 0;
    (void)r;
}

static void client_new(client *c, relay *r, app *a, const char *user, uint32_t device,
                       sealwire_trust_store *trust, const char *path, const uint8_t key[32],
                       const char *name) {
    sealwire_address address = {user_of(a->id, user), device};
    c->name = name;
    c->handle = NULL;
    check(sealwire_device_create(&address, trust, NOW, (const uint8_t *)path,
                                 path ? strlen(path) : 0, key, key ? 32 : 0, &c->handle),
          "device create");
    listing *l = &r->devices[r->count++];
    memset(l, 0, sizeof *l);
    l->app = a->id;
    l->user = user;
    l->device = device;
    check(sealwire_device_identity(c->handle, &l->identity), "identity");
    sealwire_bytes certificate = {0};
    check(sealwire_sender_certificate_issue(a->issuer_secret.ptr, a->issuer_secret.len,
                                            a->issuer_certificate.ptr, a->issuer_certificate.len,
                                            (const uint8_t *)user, strlen(user), device,
                                            l->identity.ptr, l->identity.len, NOW + YEAR,
                                            &certificate),
          "sender certificate");
    check(sealwire_device_set_certificate(c->handle, certificate.ptr, certificate.len),
          "set certificate");
    sealwire_bytes_free(&certificate);
    c->listing = l;
    publish(r, c);
}

static uint32_t read_u32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Device lists from the relay, and sessions started where missing. */
static void connect_to(relay *r, client *c, const char *app_id, const char *user) {
    const char *own[2] = {c->listing->app, c->listing->user};
    const char *users[2][2] = {{app_id, user}, {own[0], own[1]}};
    for (int u = 0; u < 2; u++) {
        uint32_t ids[MAX_DEVICES];
        size_t n = 0;
        for (size_t i = 0; i < r->count; i++)
            if (!strcmp(r->devices[i].app, users[u][0]) && !strcmp(r->devices[i].user, users[u][1]))
                ids[n++] = r->devices[i].device;
        sealwire_user su = user_of(users[u][0], users[u][1]);
        check(sealwire_device_set_devices(c->handle, &su, ids, n), "set devices");
    }
    sealwire_user su = user_of(app_id, user);
    sealwire_bytes missing = {0};
    check(sealwire_device_missing_sessions(c->handle, &su, NOW, &missing), "missing sessions");
    const uint8_t *p = missing.ptr;
    uint32_t count = missing.len ? read_u32(p) : 0;
    p += 4;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t app_len = read_u32(p);
        const uint8_t *app = p + 4;
        p += 4 + app_len;
        uint32_t user_len = read_u32(p);
        const uint8_t *usr = p + 4;
        p += 4 + user_len;
        uint32_t device = read_u32(p);
        p += 4;
        for (size_t j = 0; j < r->count; j++) {
            listing *l = &r->devices[j];
            if (strlen(l->app) != app_len || memcmp(l->app, app, app_len) ||
                strlen(l->user) != user_len || memcmp(l->user, usr, user_len) || l->device != device)
                continue;
            size_t available = 0;
            check(sealwire_publication_one_time_count(l->publication, &available), "count");
            int64_t index = l->next_one_time < available ? (int64_t)l->next_one_time++ : -1;
            sealwire_bytes bundle = {0};
            check(sealwire_publication_bundle(l->publication, index, &bundle), "bundle");
            sealwire_address to = {user_of(l->app, l->user), device};
            int32_t event = 0;
            check(sealwire_device_start_session(c->handle, &to, bundle.ptr, bundle.len, NOW, &event),
                  "start session");
            if (event == 1) printf("  %s meets %s@%s#%u (its app vouches for its key)\n", c->name,
                                   l->user, l->app, device);
            sealwire_bytes_free(&bundle);
        }
    }
    sealwire_bytes_free(&missing);
}

static void send_text(relay *r, client *c, const char *app_id, const char *user, const char *text) {
    connect_to(r, c, app_id, user);
    sealwire_user to = user_of(app_id, user);
    sealwire_sent *sent = NULL;
    check(sealwire_device_send(c->handle, &to, (const uint8_t *)text, strlen(text), NOW, &sent), "send");
    sealwire_bytes upload = {0}, id = {0};
    check(sealwire_sent_upload(sent, &upload), "upload");
    relay_upload(r, &upload);
    check(sealwire_message_id(upload.ptr, upload.len, &id), "message id");
    check(sealwire_device_acknowledge_sent(c->handle, id.ptr, id.len), "acknowledge sent");
    printf("  %s -> %s@%s: \"%s\" (%zu-byte upload)\n", c->name, user, app_id, text, upload.len);
    sealwire_bytes_free(&upload);
    sealwire_bytes_free(&id);
    sealwire_sent_free(sent);
}

static void send_group(relay *r, client *c, const char *group, const char *text) {
    sealwire_group_sent *sent = NULL;
    check(sealwire_device_send_to_group(c->handle, (const uint8_t *)group, strlen(group),
                                        (const uint8_t *)text, strlen(text), NOW, &sent),
          "send to group");
    size_t n = 0;
    check(sealwire_group_sent_count(sent, &n), "group sent count");
    for (size_t i = 0; i < n; i++) {
        sealwire_bytes upload = {0}, id = {0};
        check(sealwire_group_sent_upload(sent, i, &upload), "group upload");
        relay_upload(r, &upload);
        check(sealwire_message_id(upload.ptr, upload.len, &id), "message id");
        check(sealwire_device_acknowledge_sent(c->handle, id.ptr, id.len), "acknowledge sent");
        sealwire_bytes_free(&upload);
        sealwire_bytes_free(&id);
    }
    printf("  %s -> group %s: \"%s\" (%zu uploads: sender keys, then the message)\n", c->name,
           group, text, n);
    sealwire_group_sent_free(sent);
}

static void receive_all(client *c) {
    listing *l = c->listing;
    for (size_t i = 0; i < l->mail_count; i++) {
        sealwire_received *got = NULL;
        int32_t code = sealwire_device_receive(c->handle, l->mail[i].ptr, l->mail[i].len, NOW, &got);
        if (code != SEALWIRE_OK) {
            printf("  %s refuses an envelope: %s (action %d)\n", c->name, sealwire_error_text(code),
                   sealwire_error_action(code));
        } else {
            sealwire_bytes app = {0}, user = {0}, text = {0}, group = {0}, id = {0};
            uint32_t device = 0;
            int32_t kind = 0;
            check(sealwire_received_from(got, &app, &user, &device), "from");
            check(sealwire_received_kind(got, &kind, &group), "kind");
            check(sealwire_received_plaintext(got, &text), "plaintext");
            if (kind == 2)
                printf("  %s takes %.*s@%.*s#%u's sender key for %.*s\n", c->name, (int)user.len,
                       (const char *)user.ptr, (int)app.len, (const char *)app.ptr, device,
                       (int)group.len, (const char *)group.ptr);
            else
                printf("  %s reads%s%.*s from %.*s@%.*s#%u: \"%.*s\"\n", c->name,
                       kind == 1 ? " in group " : "", (int)group.len,
                       group.ptr ? (const char *)group.ptr : "", (int)user.len,
                       (const char *)user.ptr, (int)app.len, (const char *)app.ptr, device,
                       (int)text.len, text.ptr ? (const char *)text.ptr : "");
            if (kind != 2) {
                check(sealwire_received_id(got, &id), "id");
                check(sealwire_device_acknowledge_received(c->handle, id.ptr, id.len), "acknowledge");
            }
            sealwire_bytes_free(&app);
            sealwire_bytes_free(&user);
            sealwire_bytes_free(&text);
            sealwire_bytes_free(&group);
            sealwire_bytes_free(&id);
            sealwire_received_free(got);
        }
        sealwire_bytes_free(&l->mail[i]);
    }
    l->mail_count = 0;
}

int main(void) {
    const char *path = getenv("SEALWIRE_C_DB");
    if (!path) path = "target/c-conversation-alice.db";
    remove(path);
    uint8_t key[32];
    for (int i = 0; i < 32; i++) key[i] = (uint8_t)(7 * i + 1); /* from the OS keystore, really */

    printf("== Three apps, three certificate authorities, one relay ==\n");
    sealwire_trust_store *trust = NULL;
    check(sealwire_trust_store_new(&trust), "trust store");
    app alpha, beta, gamma;
    app_new(&alpha, "chat.alpha", trust);
    app_new(&beta, "chat.beta", trust);
    app_new(&gamma, "chat.gamma", trust);
    relay r;
    memset(&r, 0, sizeof r);
    client bob, alice, carol;
    client_new(&bob, &r, &alpha, "bob", 1, trust, NULL, NULL, "bob@chat.alpha#1");
    client_new(&alice, &r, &beta, "alice", 1, trust, path, key, "alice@chat.beta#1");
    client_new(&carol, &r, &gamma, "carol", 1, trust, NULL, NULL, "carol@chat.gamma#1");

    printf("\n== Bob writes to Alice (sealed: the relay sees only the recipient) ==\n");
    send_text(&r, &bob, "chat.beta", "alice", "Hi Alice! Bob from chat.alpha here.");
    receive_all(&alice);
    send_text(&r, &alice, "chat.alpha", "bob", "Hi Bob! Alice from chat.beta.");
    receive_all(&bob);

    printf("\n== Alice, Bob and Carol start a group ==\n");
    sealwire_user members[3] = {user_of("chat.alpha", "bob"), user_of("chat.beta", "alice"),
                                user_of("chat.gamma", "carol")};
    const char *group = "trio";
    client *all[3] = {&bob, &alice, &carol};
    for (int i = 0; i < 3; i++) {
        check(sealwire_device_create_group(all[i]->handle, (const uint8_t *)group, strlen(group),
                                           members, 3),
              "create group");
        for (int m = 0; m < 3; m++) {
            char app_id[32], user[32];
            snprintf(app_id, sizeof app_id, "%.*s", (int)members[m].app_len, members[m].app);
            snprintf(user, sizeof user, "%.*s", (int)members[m].user_len, members[m].user);
            connect_to(&r, all[i], app_id, user);
        }
    }
    send_group(&r, &carol, group, "Dinner on Friday?");
    receive_all(&bob);
    receive_all(&alice);

    printf("\n== Alice's app restarts: her device reopens from its encrypted store ==\n");
    check(sealwire_device_free(alice.handle), "free");
    alice.handle = NULL;
    sealwire_device *reopened = NULL;
    int32_t wrong = sealwire_device_open((const uint8_t *)path, strlen(path), key, 31, trust, &reopened);
    printf("  opening with a 31-byte key: %s\n", sealwire_error_text(wrong));
    uint8_t other[32] = {0};
    wrong = sealwire_device_open((const uint8_t *)path, strlen(path), other, 32, trust, &reopened);
    printf("  opening with another key: %s (action %d)\n", sealwire_error_text(wrong),
           sealwire_error_action(wrong));
    check(sealwire_device_open((const uint8_t *)path, strlen(path), key, 32, trust, &alice.handle),
          "reopen");
    send_group(&r, &alice, group, "Yes! After the restart, still in the group.");
    send_text(&r, &alice, "chat.alpha", "bob", "And still talking to you.");
    receive_all(&bob);
    receive_all(&carol);

    printf("\n== What a careless caller gets ==\n");
    printf("  NULL output: %s\n", sealwire_error_text(sealwire_trust_store_new(NULL)));
    printf("  a trust store passed as a device: %s\n",
           sealwire_error_text(sealwire_device_free((sealwire_device *)(void *)trust)));
    uint8_t garbage[3] = {1, 2, 3};
    sealwire_received *nothing = NULL;
    printf("  garbage envelope: %s\n",
           sealwire_error_text(sealwire_device_receive(bob.handle, garbage, sizeof garbage, NOW, &nothing)));

    printf("\n== The relay delivered %zu envelopes, %zu bytes ==\n", r.delivered, r.bytes);

    for (int i = 0; i < 3; i++) check(sealwire_device_free(all[i]->handle), "free device");
    for (size_t i = 0; i < r.count; i++) {
        sealwire_bytes_free(&r.devices[i].identity);
        sealwire_publication_free(r.devices[i].publication);
        for (size_t m = 0; m < r.devices[i].mail_count; m++) sealwire_bytes_free(&r.devices[i].mail[m]);
    }
    app_free(&alpha);
    app_free(&beta);
    app_free(&gamma);
    check(sealwire_trust_store_free(trust), "free trust store");
    printf("  a second free of the trust store: %s\n", sealwire_error_text(sealwire_trust_store_free(trust)));
    remove(path);
    /* valgrind cannot see a leaked handle (the library still knows it):
     * the library's own count must be 0 once everything is freed. */
    size_t live = sealwire_live_count();
    printf("  handles and buffers still live: %zu\n", live);
    return live == 0 ? 0 : 1;
}
