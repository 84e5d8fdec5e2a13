/*
 * lsrec.h — C ABI of liblsrec, a long- and short-term interest recommender.
 *
 * Objects
 *   lsrec_model  An immutable model loaded from a .lsrec weight file. After load nothing in it
 *                changes, so one model may be shared by any number of threads without locks.
 *   lsrec_state  One user's interest state (LSTM h, c and the last L events). Mutable: use a state
 *                from one thread at a time (different states on different threads are fine).
 *                A state belongs to the model that created it (or deserialised it); passing it
 *                with another model gives LSREC_E_MODEL_MISMATCH. Each state keeps its model's
 *                weights alive (reference-counted), so freeing the model handle while states exist
 *                is safe: those states can still be serialised, rebased onto a new model and
 *                freed. The freed lsrec_model pointer itself must not be used again.
 *   lsrec_catalog  The items to recommend from: a model's items, minus removed ones, plus items
 *                added after training from a text embedding. Safe to share between threads
 *                (readers and writers); see "Catalogue" below.
 *   lsrec_encoder  The text encoder (all-MiniLM-L6-v2) loaded from an encoder .lsrec file: text in,
 *                L2-normalised embedding out. Immutable after load, shared by any number of threads
 *                (section "Text encoder").
 *
 * Conventions
 *   - Every function that can fail returns an lsrec_status (0 = LSREC_OK). On failure nothing is
 *     changed (outputs are not written unless stated) and lsrec_last_error() describes the problem.
 *     Exception: the constructors (_load, _load_memory, _new, _clone, _deserialize, _rebase,
 *     lsrec_catalog_new) set *out to NULL on failure (when out itself is not NULL).
 *   - Items are named by their external int64 ids (e.g. MovieLens movie ids) everywhere.
 *   - Times are unix seconds (int64). An event may have LSREC_TS_UNKNOWN (-1) as its time; other
 *     negative times are refused. Known event times must not decrease (LSREC_E_OUT_OF_ORDER);
 *     equal times are fine.
 *   - Buffers are owned by the caller; the library never keeps a pointer passed in after a call
 *     returns. Each constructor (_load, _new, _deserialize, _clone, _rebase) has one _free; _free(NULL) is a no-op.
 *   - No function aborts the process on bad input: NULL pointers, wrong sizes, unknown ids,
 *     malformed files and blobs are reported as statuses.
 */
#ifndef LSREC_H
#define LSREC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Versions ------------------------------------------------------------------------------ */

#define LSREC_VERSION_MAJOR 0
#define LSREC_VERSION_MINOR 5
#define LSREC_VERSION_PATCH 0
#define LSREC_VERSION_STRING "0.5.0"
/* Bumped on any incompatible change of this header. Check lsrec_abi_version() == LSREC_ABI_VERSION
 * at start-up to make sure the library you linked at run time matches the header you compiled with. */
#define LSREC_ABI_VERSION 1u

/** The ABI version of the loaded library (compare with LSREC_ABI_VERSION). */
uint32_t lsrec_abi_version(void);
/** The library's version, e.g. "0.1.0". Static storage; never NULL. */
const char *lsrec_version_string(void);

/* ---- BLAS kernels (since 0.5.0) ------------------------------------------------------------ */
/* lsrec computes on OpenBLAS, which picks its kernels from the CPU model once, when it is loaded.
 * OpenBLAS releases before 0.3.25 (Debian 12 ships 0.3.21) fall back to their SSE3 "Prescott"
 * kernels on CPU models newer than they know (e.g. Intel Emerald Rapids): updates, training and
 * batch scoring then run several times slower (single-core sgemm 30 vs 154 GFLOP/s measured on
 * one such Xeon). The fix is to start the host process with OPENBLAS_CORETYPE set to the value
 * below (it must be in the environment before OpenBLAS is loaded; setting it later changes
 * nothing). The `lsrec` tool does this itself. Results stay within floating-point rounding. */

/** The kernel set the loaded OpenBLAS uses (openblas_get_corename(), e.g. "SkylakeX", "Haswell",
 *  "Prescott"); "unknown" if it does not say. Static storage; never NULL. Thread-safe. */
const char *lsrec_blas_core(void);
/** NULL when OpenBLAS's kernels suit this CPU. Otherwise the OPENBLAS_CORETYPE value ("SkylakeX"
 *  on AVX-512 CPUs, "Haswell" on AVX2 + FMA CPUs) to set before starting the process, because
 *  OpenBLAS runs pre-AVX2 kernels on a CPU that has AVX2 + FMA. Also NULL when the loaded OpenBLAS
 *  was built without DYNAMIC_ARCH (the variable would change nothing). Static storage. Thread-safe. */
const char *lsrec_blas_suggested_coretype(void);

/* ---- Status codes -------------------------------------------------------------------------- */

typedef int32_t lsrec_status;
#define LSREC_OK                    0
#define LSREC_E_INVALID_ARGUMENT    1  /* NULL pointer, k == 0, bad flag, negative time ... */
#define LSREC_E_IO                  2  /* a file could not be opened or read */
#define LSREC_E_FORMAT              3  /* malformed weight file or state blob (message says where) */
#define LSREC_E_VERSION             4  /* unsupported format or state version */
#define LSREC_E_CHECKSUM            5  /* a CRC32C does not match: the bytes were damaged */
#define LSREC_E_UNKNOWN_ITEM        6  /* an item id the model does not know */
#define LSREC_E_BUFFER_TOO_SMALL    7  /* the message (and *needed where offered) gives the size */
#define LSREC_E_MODEL_MISMATCH      8  /* a state or blob from another model */
#define LSREC_E_OUT_OF_MEMORY       9
#define LSREC_E_INTERNAL           10  /* a bug in lsrec; please report the message */
#define LSREC_E_BAD_MAGIC          11  /* not an lsrec file / state blob */
#define LSREC_E_TRUNCATED          12  /* the file or blob ends early */
#define LSREC_E_BYTE_ORDER         13  /* written on a big-endian machine */
#define LSREC_E_NONFINITE          14  /* NaN or Inf in the weights (or weights that would overflow) */
#define LSREC_E_OUT_OF_ORDER       15  /* an event time earlier than the user's previous event */

/** A short fixed description of a status ("checksum mismatch"). Static storage; never NULL. */
const char *lsrec_status_str(lsrec_status status);
/** The message of the most recent failed call on the calling thread ("" if none). Thread-local:
 *  valid until the next failing lsrec call on the same thread. Never NULL. */
const char *lsrec_last_error(void);

/* ---- Constants ----------------------------------------------------------------------------- */

/** An event whose time is unknown: its gap embedding is "unknown" and it does not move the clock. */
#define LSREC_TS_UNKNOWN ((int64_t)-1)
/** As `now`: request at the time of the user's last event. */
#define LSREC_NOW_LAST_EVENT ((int64_t)-1)
/** lsrec_topk flag: leave out items among the state's held (last L) events. */
#define LSREC_EXCLUDE_SEEN 1u

/* ---- Model --------------------------------------------------------------------------------- */

typedef struct lsrec_model lsrec_model;
typedef struct lsrec_state lsrec_state;

/** Loads a .lsrec file. Verifies every checksum and the model's consistency (including that no
 *  weight is NaN/Inf or so large that inference could overflow: LSREC_E_NONFINITE). path must be a
 *  regular file (a device, FIFO or directory gives LSREC_E_IO; read other sources yourself and use
 *  lsrec_model_load_memory). On success *out owns a new model (free with lsrec_model_free); on
 *  failure *out is set to NULL. */
lsrec_status lsrec_model_load(const char *path, lsrec_model **out);
/** Loads a model from len bytes at buf (copied; the caller may free buf after the call). */
lsrec_status lsrec_model_load_memory(const void *buf, size_t len, lsrec_model **out);
/** Options for lsrec_model_load_ex and lsrec_model_load_memory_ex. Start from
 *  lsrec_model_default_params() and change fields: `size` tells the library which fields the
 *  caller's header has, so later versions can add fields without breaking older callers (a
 *  larger struct is accepted when the fields this library does not know are zero). */
typedef struct lsrec_model_params {
    uint32_t size;   /* sizeof(lsrec_model_params), as lsrec_model_default_params() sets it */
    uint32_t flags;  /* LSREC_MODEL_* bits below; 0 by default */
} lsrec_model_params;
/** lsrec_model_params flag: keep a compact approximate copy of the item matrix that lsrec_topk
 *  scans first, rescoring in float32 only the items that could enter the result. The result is
 *  exactly lsrec_topk's without the flag (same ids, same score bits); a request reads a quarter
 *  (int8) or half (binary16) of the bytes, with cheaper arithmetic (BENCHMARKS.md). The copy is
 *  int8 with a scale per item (N x (d + 4) bytes, +25% of the item matrix) on a CPU with AVX2, FMA
 *  and F16C (scanned with AVX-512 VNNI where the CPU has it), or binary16 (N x d x 2 bytes, +50%)
 *  there for d > 1040. Used by lsrec_topk and lsrec_state_update_topk only (not by
 *  lsrec_topk_batch, lsrec_score or the catalogue calls). On a CPU without AVX2, FMA and F16C, or
 *  (binary16) when an item value does not fit binary16, no copy is made and lsrec_topk is the
 *  plain float32 scan: lsrec_model_screens_items says which. */
#define LSREC_MODEL_SCREEN_ITEMS 1u
/** The default options: size = sizeof(lsrec_model_params), no flags (= lsrec_model_load). */
static inline lsrec_model_params lsrec_model_default_params(void) {
    lsrec_model_params p;
    p.size = (uint32_t)sizeof(lsrec_model_params);
    p.flags = 0;
    return p;
}
/** lsrec_model_load with options; params NULL means the defaults. Unknown flag bits, or a size
 *  below 8, give LSREC_E_INVALID_ARGUMENT. */
lsrec_status lsrec_model_load_ex(const char *path, const lsrec_model_params *params, lsrec_model **out);
/** lsrec_model_load_memory with options (as lsrec_model_load_ex). */
lsrec_status lsrec_model_load_memory_ex(const void *buf, size_t len, const lsrec_model_params *params,
                                        lsrec_model **out);
/** 1 when lsrec_topk scans the approximate copy (LSREC_MODEL_SCREEN_ITEMS was given and this CPU
 *  and model allow it), 0 when it scans the float32 matrix, -1 if model is NULL. */
int32_t lsrec_model_screens_items(const lsrec_model *model);
/** Frees a model. NULL is a no-op. No state of this model may be used afterwards. */
void lsrec_model_free(lsrec_model *model);
/** Number of items N in the catalogue, or -1 if model is NULL. */
int64_t lsrec_model_n_items(const lsrec_model *model);
/** Model width d (length of a user vector), or -1 if model is NULL. */
int32_t lsrec_model_dim(const lsrec_model *model);
/** Writes the N external item ids, in the model's internal order, to out (cap >= N, else
 *  LSREC_E_BUFFER_TOO_SMALL). */
lsrec_status lsrec_model_item_ids(const lsrec_model *model, int64_t *out, size_t cap);
/** Copies the metadata value of key, as text, into buf (NUL-terminated, truncated to cap - 1 bytes,
 *  like snprintf). Returns the full length of the value (excluding NUL), or -1 if the key is
 *  absent or an argument is NULL. buf may be NULL when cap is 0 (a length query).
 *  Keys: "general.architecture", "general.fingerprint", "lsrec.dim", "lsrec.history", "lsrec.n_items",
 *  "train.*", ... (docs/FORMAT.md). */
int32_t lsrec_model_meta(const lsrec_model *model, const char *key, char *buf, size_t cap);

/* ---- User state ---------------------------------------------------------------------------- */

/** A new, empty state (no events) for model. Free with lsrec_state_free. */
lsrec_status lsrec_state_new(const lsrec_model *model, lsrec_state **out);
/** A copy of src, independent of it. Free with lsrec_state_free. */
lsrec_status lsrec_state_clone(const lsrec_state *src, lsrec_state **out);
/** Frees a state. NULL is a no-op. */
void lsrec_state_free(lsrec_state *state);
/** Number of events ever fed to the state (including those the L-event window has dropped),
 *  or -1 if state is NULL. */
int64_t lsrec_state_n_events(const lsrec_state *state);
/** Feeds one event: O(d^2) time, constant memory. unix_ts may be LSREC_TS_UNKNOWN. */
lsrec_status lsrec_state_update(const lsrec_model *model, lsrec_state *state, int64_t item_id, int64_t unix_ts);
/** Feeds n events in order. All events are validated first; on any error nothing is applied. */
lsrec_status lsrec_state_update_many(const lsrec_model *model, lsrec_state *state, const int64_t *items,
                                     const int64_t *unix_ts, size_t n);
/** Serialises a state to a portable little-endian blob (magic, version, model fingerprint,
 *  payload, CRC32C; about 1.5-2 KB for d=64, L=200, plus 8 + 4d bytes per held event on an item
 *  added to a catalogue: state version 2, written only for such states; version 1 otherwise). *needed (if not NULL) receives the blob size.
 *  dst == NULL with cap == 0 is a size query and returns LSREC_OK; otherwise cap < size gives
 *  LSREC_E_BUFFER_TOO_SMALL and writes nothing. */
lsrec_status lsrec_state_serialize(const lsrec_state *state, void *dst, size_t cap, size_t *needed);
/** Restores a state from a blob written by lsrec_state_serialize with the same model. A blob from
 *  another model gives LSREC_E_MODEL_MISMATCH; damaged ones LSREC_E_CHECKSUM, LSREC_E_TRUNCATED,
 *  LSREC_E_BAD_MAGIC, LSREC_E_VERSION or LSREC_E_FORMAT. */
lsrec_status lsrec_state_deserialize(const lsrec_model *model, const void *src, size_t len, lsrec_state **out);

/** Moves a user to another model (e.g. a newly trained one) without losing context: replays the
 *  events old_state holds (its last L events, with their times) into a new state of new_model.
 *  The result equals feeding those events to new_model from scratch. Items new_model does not know
 *  are skipped; *skipped (may be NULL) receives how many. old_state is not changed; its model may
 *  already have been freed. Free *out with lsrec_state_free. */
lsrec_status lsrec_state_rebase(const lsrec_model *new_model, const lsrec_state *old_state, lsrec_state **out,
                                size_t *skipped);

/* ---- Scoring ------------------------------------------------------------------------------- */

/** Scores of all N items (s_i = u . e_i + b_i, higher is better; models trained with the repeat
 *  term add their learned beta to each distinct item the state holds, docs/MODEL.md) in the model's item order
 *  (see lsrec_model_item_ids). now: unix time of the request, or LSREC_NOW_LAST_EVENT.
 *  cap must be >= N. */
lsrec_status lsrec_score(const lsrec_model *model, const lsrec_state *state, int64_t now, float *out, size_t cap);
/** Scores of n given items; an unknown id gives LSREC_E_UNKNOWN_ITEM and writes nothing. */
lsrec_status lsrec_score_items(const lsrec_model *model, const lsrec_state *state, int64_t now,
                               const int64_t *items, size_t n, float *out);
/** The k best items, best first (ties: lower internal index first). out_items (and out_scores,
 *  which may be NULL) must hold k entries; unused slots are padded with id -1 and score -INFINITY.
 *  *n_out (may be NULL) receives the number of real results (< k when the catalogue, after
 *  exclusions, is smaller). flags: 0 or LSREC_EXCLUDE_SEEN. exclude: n_exclude further ids to leave
 *  out (ids the model does not know are ignored); may be NULL when n_exclude is 0. k must be >= 1. */
lsrec_status lsrec_topk(const lsrec_model *model, const lsrec_state *state, int64_t now, size_t k, uint32_t flags,
                        const int64_t *exclude, size_t n_exclude,
                        int64_t *out_items, float *out_scores, size_t *n_out);
/** One event, then the top-k for the updated state, in one call (the per-click path of a service:
 *  half the calls of lsrec_state_update + lsrec_topk, same results). Arguments as in those two
 *  functions. All are checked before the state changes: on any error the state, out_items,
 *  out_scores and *n_out are left as they were. */
lsrec_status lsrec_state_update_topk(const lsrec_model *model, lsrec_state *state, int64_t item_id, int64_t unix_ts,
                                     int64_t now, size_t k, uint32_t flags, const int64_t *exclude, size_t n_exclude,
                                     int64_t *out_items, float *out_scores, size_t *n_out);
/** lsrec_topk for n users with one matrix product (faster than n calls). Results for user b are at
 *  out_items[b*k .. b*k+k-1] (out_scores likewise, may be NULL), padded as in lsrec_topk. */
lsrec_status lsrec_topk_batch(const lsrec_model *model, const lsrec_state *const *states, size_t n,
                              int64_t now, size_t k, uint32_t flags, int64_t *out_items, float *out_scores);
/** "Because you watched ...": the history items that contributed most to item_id's score (the
 *  long-term part of the score split exactly over held events, repeated items summed; MODEL.md),
 *  largest contribution first, at the time of the last event. out arrays hold k entries, padded
 *  with id -1 and weight 0; *n_out (may be NULL) receives the number of real entries. */
lsrec_status lsrec_explain(const lsrec_model *model, const lsrec_state *state, int64_t item_id, size_t k,
                           int64_t *out_history_items, float *out_weights, size_t *n_out);
/** The user vector u (d floats, cap >= d) at time now. */
lsrec_status lsrec_user_vector(const lsrec_model *model, const lsrec_state *state, int64_t now, float *out, size_t cap);

/* ---- Catalogue: items added after training ------------------------------------------------- */

/* An lsrec_catalog is the set of items a host recommends from, layered on a model: the model's
 * items, minus the ones removed, plus new items added from a text embedding (e.g. the output of
 * the same sentence encoder that made the model's item.text) without retraining. The model is
 * never changed; the catalogue holds a reference to it (like a state), so lsrec_model_free while
 * a catalogue exists is safe.
 *
 * Scoring of an added item (docs/MODEL.md, "Items added after training"): e = P . t with the
 * model's text projection P and text embedding t, bias = the median trained item bias. A model
 * without text projection (lsrec.text_dim = 0) cannot take added items (removal still works).
 *
 * Order: the model's items in the model's order, then added items in the order they were added.
 * lsrec_catalog_item_ids lists this order and lsrec_catalog_topk breaks score ties by it.
 *
 * Ids: an added item's id must be new: not a current catalogue item and not one of the model's
 * ids (even a removed one: bring that back with lsrec_catalog_restore_item), and not -1 (padding).
 * There is no silent replacement: to replace an added item, remove it, then add it again.
 *
 * Events: lsrec_catalog_state_update accepts any model item, removed ones included (the user
 * did see it), and any added item currently in the catalogue. For an added item the state keeps
 * the item's id and vector with the event (docs/MODEL.md, "Items added after training"): the
 * LSTM step, attention and explanations use that vector, explanations name the item by its id,
 * and the state stays bound to the model alone, so removing the item later, or using the state
 * with another catalogue or with the bare model, changes nothing for events already fed. On a
 * state holding such events every lsrec_state_* and scoring call works as usual: lsrec_topk /
 * lsrec_score rank model items only (the held added items are simply not candidates there),
 * lsrec_explain names them by id, lsrec_state_update still refuses ids the model does not know,
 * lsrec_state_rebase keeps them only if the new model has their id (else counts them skipped),
 * and the blob (state version 2, docs/FORMAT.md) carries their vectors: 8 + 4d bytes each.
 *
 * Threads: one catalogue may be used by any number of threads at once, readers (_topk,
 * _score_items, _explain, _item_ids, _n_items, _contains, _item_vector, _state_update) and
 * writers (_add_item, _remove_item, _restore_item) alike. A read-write lock (writer-preferring)
 * guards it: reads run in parallel, each on one consistent catalogue (never a half-made change);
 * a write waits for the reads in progress and is short (O(d) for an add, O(1) to remove or restore
 * a model item, O(added items * d) to remove an added item); reads arriving meanwhile wait for it.
 * Two reads in a row may see different catalogues if a writer ran in between. States keep their
 * own rule (one thread at a time per state). Do not free a catalogue while another thread is
 * using it. */
typedef struct lsrec_catalog lsrec_catalog;

/** A new catalogue holding exactly model's items. Free with lsrec_catalog_free. */
lsrec_status lsrec_catalog_new(const lsrec_model *model, lsrec_catalog **out);
/** Frees a catalogue. NULL is a no-op. */
void lsrec_catalog_free(lsrec_catalog *cat);
/** Number of items a recommendation can return now (visible model items + added items), or -1 if
 *  cat is NULL. */
int64_t lsrec_catalog_n_items(const lsrec_catalog *cat);
/** 1 if item_id is in the catalogue now, 0 if not, -1 if cat is NULL. */
int32_t lsrec_catalog_contains(const lsrec_catalog *cat, int64_t item_id);
/** Writes the catalogue's item ids in catalogue order to out. *n_out (may be NULL) receives the
 *  count, also when cap is too small (LSREC_E_BUFFER_TOO_SMALL, nothing written): another thread
 *  may have added items since lsrec_catalog_n_items. out may be NULL when the catalogue is empty. */
lsrec_status lsrec_catalog_item_ids(const lsrec_catalog *cat, int64_t *out, size_t cap, size_t *n_out);
/** Adds an item from its text embedding text_vec (text_dim floats; text_dim must equal the
 *  model's lsrec.text_dim). Errors (nothing changes): LSREC_E_INVALID_ARGUMENT for a model without
 *  text projection, a wrong text_dim, a NULL text_vec, or an id that is already in the catalogue,
 *  is one of the model's ids, or is -1; LSREC_E_NONFINITE for NaN/Inf in text_vec or a vector so
 *  large that scores, or a user state holding an event on the item, could overflow float32
 *  (docs/MODEL.md; never for real text embeddings). O(d * text_dim). */
lsrec_status lsrec_catalog_add_item(lsrec_catalog *cat, int64_t item_id, const float *text_vec, size_t text_dim);
/** Removes an item from the catalogue: a model item is hidden (lsrec_catalog_restore_item brings
 *  it back), an added item is dropped. An id not in the catalogue (never there, or already
 *  removed) gives LSREC_E_UNKNOWN_ITEM. */
lsrec_status lsrec_catalog_remove_item(lsrec_catalog *cat, int64_t item_id);
/** Makes a removed model item recommendable again (LSREC_E_UNKNOWN_ITEM if the model does not
 *  have item_id, LSREC_E_INVALID_ARGUMENT if it was not removed). */
lsrec_status lsrec_catalog_restore_item(lsrec_catalog *cat, int64_t item_id);
/** The item vector e (d floats, cap >= d) and, if bias is not NULL, the bias b of a catalogue
 *  item: its score for user vector u (lsrec_user_vector) is u . e + b (+ the repeat term's beta when
 *  the state holds the item and the model has the term, docs/MODEL.md). */
lsrec_status lsrec_catalog_item_vector(const lsrec_catalog *cat, int64_t item_id, float *out, size_t cap,
                                       float *bias);
/** lsrec_score_items over the catalogue: scores of n catalogue items (model or added); an id not
 *  in the catalogue (including removed ones) gives LSREC_E_UNKNOWN_ITEM and writes nothing. state
 *  must belong to the catalogue's model (LSREC_E_MODEL_MISMATCH otherwise). */
lsrec_status lsrec_catalog_score_items(const lsrec_catalog *cat, const lsrec_state *state, int64_t now,
                                       const int64_t *items, size_t n, float *out);
/** lsrec_topk over the catalogue: the k best catalogue items, best first, ties in catalogue order;
 *  removed items never appear. Same buffers, padding (id -1, score -INFINITY), *n_out, flags
 *  (LSREC_EXCLUDE_SEEN leaves out the items among the state's held events, added ones included) and exclude
 *  (ids not in the catalogue are ignored) as lsrec_topk. */
lsrec_status lsrec_catalog_topk(const lsrec_catalog *cat, const lsrec_state *state, int64_t now, size_t k,
                                uint32_t flags, const int64_t *exclude, size_t n_exclude,
                                int64_t *out_items, float *out_scores, size_t *n_out);
/** lsrec_explain for a catalogue item (model or added): the history items (model or added items,
 *  removed ones included) that contributed most to item_id's score, largest first, at the time of the
 *  last event; out arrays hold k entries, padded with id -1 and weight 0. */
lsrec_status lsrec_catalog_explain(const lsrec_catalog *cat, const lsrec_state *state, int64_t item_id, size_t k,
                                   int64_t *out_history_items, float *out_weights, size_t *n_out);
/** lsrec_state_update through the catalogue: feeds an event on a model item (removed ones
 *  included) or on an added item in the catalogue now (see "Events" above; the state keeps the
 *  item's id and vector). An id not in the catalogue (never added, or an added item already
 *  removed) gives LSREC_E_UNKNOWN_ITEM; on any error the state is unchanged. */
lsrec_status lsrec_catalog_state_update(const lsrec_catalog *cat, lsrec_state *state, int64_t item_id,
                                        int64_t unix_ts);

/* ---- Text encoder -------------------------------------------------------------------------- */

/* The sentence encoder all-MiniLM-L6-v2 (Apache-2.0; BERT, 6 layers, hidden 384) in the library:
 * text in, a 384-float L2-normalised embedding out (cosine = dot product). Weights come from an
 * encoder .lsrec file written by `lsrec convert-encoder` (docs/FORMAT.md, "Encoder files").
 * Tokenisation matches Hugging Face `tokenizers` with the model's tokenizer.json (lowercase, accents
 * stripped, punctuation and CJK ideographs split, WordPiece, [CLS] ... [SEP], at most
 * lsrec_encoder_max_tokens() tokens: longer texts are truncated, never refused). Texts are
 * NUL-terminated UTF-8; invalid UTF-8 gives LSREC_E_INVALID_ARGUMENT.
 *
 * Thread safety: an encoder is immutable after lsrec_encoder_load. Any number of threads may call
 * lsrec_encoder_tokenize, lsrec_encode_text and lsrec_encode_batch on one encoder at the same time
 * (each call uses its own scratch memory). lsrec_encoder_free must not race with other calls on the
 * same encoder. Ownership: the caller owns every buffer; the library keeps no pointer after a call. */

typedef struct lsrec_encoder lsrec_encoder;

/** Loads an encoder .lsrec file (checksums verified). path must be a regular file (else LSREC_E_IO).
 *  A recommender model file gives LSREC_E_FORMAT ("this is a recommender model file ..."); damaged
 *  files give the statuses of lsrec_model_load. On success *out owns a new encoder (free with
 *  lsrec_encoder_free); on failure *out is set to NULL. Takes under a second and ~90 MB of memory
 *  (f16 files are half the size on disk and widened to f32 in memory). */
lsrec_status lsrec_encoder_load(const char *path, lsrec_encoder **out);
/** Frees an encoder. NULL is a no-op. */
void lsrec_encoder_free(lsrec_encoder *enc);
/** Embedding width (384 for MiniLM), or -1 if enc is NULL. */
int32_t lsrec_encoder_dim(const lsrec_encoder *enc);
/** Token limit including [CLS] and [SEP] (128 for MiniLM), or -1 if enc is NULL. */
int32_t lsrec_encoder_max_tokens(const lsrec_encoder *enc);
/** The token ids the encoder would see for utf8: [CLS] (101), the WordPiece ids, [SEP] (102),
 *  truncated to lsrec_encoder_max_tokens(). On success *n_out receives the number of ids (>= 2)
 *  written to out_ids. If cap is smaller, nothing is written to out_ids, *n_out receives the number
 *  needed and the status is LSREC_E_BUFFER_TOO_SMALL (out_ids may be NULL when cap is 0: a size
 *  query). n_out must not be NULL. */
lsrec_status lsrec_encoder_tokenize(const lsrec_encoder *enc, const char *utf8, int32_t *out_ids, size_t cap,
                                    size_t *n_out);
/** Encodes one text into out (cap >= dim floats, else LSREC_E_BUFFER_TOO_SMALL): the mean of the
 *  last hidden states over the tokens, L2-normalised. "" is valid (it encodes [CLS] [SEP]). */
lsrec_status lsrec_encode_text(const lsrec_encoder *enc, const char *utf8, float *out, size_t cap);
/** Encodes n texts into out, row-major n x dim (row i is the embedding of texts[i], equal to
 *  lsrec_encode_text of it up to float rounding); cap counts floats and must be >= n * dim.
 *  Every text is validated (non-NULL, valid UTF-8) before anything is computed; on any error
 *  nothing is written. n == 0 does nothing (texts and out may then be NULL). Batching amortises
 *  the weight reads: several times the throughput of n single calls. */
lsrec_status lsrec_encode_batch(const lsrec_encoder *enc, const char *const *texts, size_t n, float *out,
                                size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* LSREC_H */
