/*
 * The seeds' NIF design, kept as a baseline for `make bench' (cases P1d,
 * P1e, P2c and P2d); it is not part of the application and `make test'
 * never builds it. scripts/bench compiles it to _build/bench/.
 *
 * read(NsPaths, Path) does what the old NIF did for one sysctl read:
 *   1. open each namespace file in NsPaths (e.g. /run/netns/NAME) on the
 *      calling (scheduler) thread;
 *   2. start a throwaway pthread that does unshare(CLONE_FS), setns into
 *      each of them in order, opens and reads /proc/sys/Path, and exits;
 *   3. join it, close the namespace files, and return {ok, Binary} or
 *      {error, Errno} (Errno an atom such as enoent).
 * read_dirty/2 is the same function run on a dirty I/O scheduler.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include <erl_nif.h>

#define MAX_NS 8
#define VALUE_MAX 4096

struct job {
    int ns_fds[MAX_NS];
    int ns_count;
    char path[PATH_MAX];
    char value[VALUE_MAX];
    size_t len;
    int err;
};

static void *read_in_namespaces(void *arg)
{
    struct job *job = arg;
    int i, fd;
    ssize_t n;

    if (unshare(CLONE_FS) != 0) {
        job->err = errno;
        return NULL;
    }
    for (i = 0; i < job->ns_count; i++) {
        if (setns(job->ns_fds[i], 0) != 0) {
            job->err = errno;
            return NULL;
        }
    }
    fd = open(job->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        job->err = errno;
        return NULL;
    }
    while (job->len < VALUE_MAX) {
        n = read(fd, job->value + job->len, VALUE_MAX - job->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            job->err = errno;
            break;
        }
        if (n == 0)
            break;
        job->len += (size_t)n;
    }
    close(fd);
    return NULL;
}

static ERL_NIF_TERM error_tuple(ErlNifEnv *env, int err)
{
    const char *name = strerrorname_np(err);
    char atom[32];
    size_t i;

    if (name == NULL)
        return enif_make_tuple2(env, enif_make_atom(env, "error"), enif_make_int(env, err));
    for (i = 0; name[i] != '\0' && i < sizeof atom - 1; i++)
        atom[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] - 'A' + 'a' : name[i]);
    atom[i] = '\0';
    return enif_make_tuple2(env, enif_make_atom(env, "error"), enif_make_atom(env, atom));
}

/* Copies an iolist or binary into buf as a C string. */
static int get_string(ErlNifEnv *env, ERL_NIF_TERM term, char *buf, size_t size)
{
    ErlNifBinary bin;

    if (!enif_inspect_iolist_as_binary(env, term, &bin) || bin.size >= size)
        return 0;
    memcpy(buf, bin.data, bin.size);
    buf[bin.size] = '\0';
    return 1;
}

static ERL_NIF_TERM read_nif(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    struct job job;
    char ns_path[PATH_MAX];
    ERL_NIF_TERM list = argv[0], head, result;
    ErlNifBinary out;
    pthread_t thread;
    int i, rc;

    (void)argc;
    memset(&job, 0, sizeof job);
    memcpy(job.path, "/proc/sys/", 10);
    if (!get_string(env, argv[1], job.path + 10, sizeof job.path - 10))
        return enif_make_badarg(env);
    while (enif_get_list_cell(env, list, &head, &list)) {
        if (job.ns_count == MAX_NS || !get_string(env, head, ns_path, sizeof ns_path)) {
            job.err = EINVAL;
            break;
        }
        job.ns_fds[job.ns_count] = open(ns_path, O_RDONLY | O_CLOEXEC);
        if (job.ns_fds[job.ns_count] < 0) {
            job.err = errno;
            break;
        }
        job.ns_count++;
    }
    if (job.err == 0) {
        rc = pthread_create(&thread, NULL, read_in_namespaces, &job);
        if (rc != 0)
            job.err = rc;
        else
            pthread_join(thread, NULL);
    }
    for (i = 0; i < job.ns_count; i++)
        close(job.ns_fds[i]);
    if (job.err != 0)
        return error_tuple(env, job.err);
    if (!enif_alloc_binary(job.len, &out))
        return error_tuple(env, ENOMEM);
    memcpy(out.data, job.value, job.len);
    result = enif_make_binary(env, &out);
    return enif_make_tuple2(env, enif_make_atom(env, "ok"), result);
}

static ErlNifFunc nif_funcs[] = {
    {"read", 2, read_nif, 0},
    {"read_dirty", 2, read_nif, ERL_NIF_DIRTY_JOB_IO_BOUND},
};

ERL_NIF_INIT(linx_bench_nif, nif_funcs, NULL, NULL, NULL, NULL)
