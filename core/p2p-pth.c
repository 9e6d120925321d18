/* p2p-pth.c - reading PyTorch generator checkpoints (latest_net_G.pth).
 *
 * A checkpoint is untrusted input.  It is read as data only: a small pickle
 * machine understands exactly the opcodes and the handful of names
 * (collections.OrderedDict, torch._utils._rebuild_tensor_v2, ...) that a
 * state_dict needs; every other name is refused, nothing is looked up or
 * executed.  Two containers exist (torch/serialization.py):
 *
 *   zip (PyTorch >= 1.6): stored (uncompressed) entries <prefix>/data.pkl and
 *     <prefix>/data/<key>, one per storage; the pickle names storages by
 *     persistent ids ('storage', torch.FloatStorage, key, location, numel).
 *   legacy: pickles of the magic number, the protocol version (1001) and a
 *     sys_info dict, then the state_dict pickle (persistent ids with a sixth
 *     view_metadata field), then a pickled list of storage keys, then for each
 *     key an int64 element count and the raw little-endian elements.
 *
 * The state_dict is then cleaned as the reference loader does (a leading
 * "module." stripped, num_batches_tracked and InstanceNorm running buffers
 * dropped), the generator's architecture is detected from its keys and
 * shapes (the rules of models/tools/convert-checkpoint.py), and a
 * safetensors image in our format is built in memory, so that all the
 * checks and the binding of p2p-model.c apply unchanged.
 */
#include <math.h>
#include <string.h>
#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>

#include "p2p-error.h"
#include "p2p-pth.h"
#include "arch/p2p-arch.h"

/* Limits.  A state_dict pickle of the largest supported generator has a few
 * thousand values, a nesting depth of 4 and key names under 200 bytes;
 * these bounds leave a wide margin and keep hostile files cheap. */
#define MAX_STACK      (1 << 16)     /* values on the pickle stack */
#define MAX_MARKS      64            /* nesting of MARKs */
#define MAX_MEMO       (1 << 20)     /* memo slots */
#define MAX_VALUES     (1 << 20)     /* values created by one pickle */
#define MAX_STRING     (1 << 16)     /* bytes in one string */
#define MAX_DIMS       8
#define MAX_ZIP_ENTRIES (1 << 20)
#define MAX_TENSORS    4096
#define MAX_HEADER_JSON ((gsize) 16 << 20)

static const guint8 legacy_magic[10] = { 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19 };

/* ---- errors --------------------------------------------------------------- */

#define FAIL(code, ...) G_STMT_START { \
    g_set_error (error, P2P_ERROR, (code), __VA_ARGS__); return FALSE; } G_STMT_END
#define FAILN(code, ...) G_STMT_START { \
    g_set_error (error, P2P_ERROR, (code), __VA_ARGS__); return NULL; } G_STMT_END

/* ---- little-endian helpers ------------------------------------------------ */

static guint16 rd16 (const guint8 *p) { return (guint16) (p[0] | p[1] << 8); }
static guint32 rd32 (const guint8 *p)
{
  return (guint32) p[0] | (guint32) p[1] << 8 | (guint32) p[2] << 16 | (guint32) p[3] << 24;
}
static guint64 rd64 (const guint8 *p) { return (guint64) rd32 (p) | (guint64) rd32 (p + 4) << 32; }

/* ---- storages ------------------------------------------------------------- */

typedef enum {
  ST_F32, ST_F16, ST_BF16, ST_F64, ST_I64, ST_I32, ST_I16, ST_I8, ST_U8, ST_BOOL,
} StorageType;

static const struct {
  const char *name;        /* attribute of the torch module */
  StorageType type;
  gsize elem;
  const char *dtype;       /* for messages */
} storage_types[] = {
  { "FloatStorage",    ST_F32,  4, "float32" },
  { "HalfStorage",     ST_F16,  2, "float16" },
  { "BFloat16Storage", ST_BF16, 2, "bfloat16" },
  { "DoubleStorage",   ST_F64,  8, "float64" },
  { "LongStorage",     ST_I64,  8, "int64" },
  { "IntStorage",      ST_I32,  4, "int32" },
  { "ShortStorage",    ST_I16,  2, "int16" },
  { "CharStorage",     ST_I8,   1, "int8" },
  { "ByteStorage",     ST_U8,   1, "uint8" },
  { "BoolStorage",     ST_BOOL, 1, "bool" },
};

static gsize
st_elem (StorageType t)
{
  for (guint i = 0; i < G_N_ELEMENTS (storage_types); i++)
    if (storage_types[i].type == t)
      return storage_types[i].elem;
  return 1;
}

static const char *
st_name (StorageType t)
{
  for (guint i = 0; i < G_N_ELEMENTS (storage_types); i++)
    if (storage_types[i].type == t)
      return storage_types[i].dtype;
  return "?";
}

typedef struct {
  char        *key;
  StorageType  type;
  guint64      numel;
  const guint8 *data;     /* NULL until the container supplies the bytes */
} Storage;

static void
storage_free (gpointer p)
{
  Storage *s = p;
  g_free (s->key);
  g_free (s);
}

/* ---- pickle values -------------------------------------------------------- */

typedef enum {
  V_NONE, V_BOOL, V_INT, V_BIGINT, V_FLOAT, V_STR,
  V_TUPLE, V_LIST, V_DICT, V_GLOBAL, V_STORAGE, V_TENSOR,
} VKind;

typedef enum {
  GL_ORDERED_DICT, GL_REBUILD_TENSOR, GL_REBUILD_TENSOR_V2, GL_REBUILD_PARAMETER, GL_STORAGE_TYPE,
} GlobalKind;

typedef struct {
  Storage *storage;
  guint64  offset;            /* in elements */
  int      ndim;
  gint64   shape[MAX_DIMS];
  guint64  numel;
} Tensor;

typedef struct {
  VKind kind;
  union {
    gboolean  b;
    gint64    i;
    double    f;
    struct { char *s; gsize len; } str;    /* V_STR (UTF-8, NUL-free) and V_BIGINT (raw bytes) */
    GPtrArray *items;                      /* tuple, list; dict: key, value, key, value... */
    struct { GlobalKind kind; StorageType stype; } g;
    Storage  *storage;
    Tensor   *tensor;
  } u;
} Value;

static void
value_free (gpointer p)
{
  Value *v = p;

  switch (v->kind)
    {
    case V_STR:
    case V_BIGINT:
      g_free (v->u.str.s);
      break;
    case V_TUPLE:
    case V_LIST:
    case V_DICT:
      g_ptr_array_unref (v->u.items);
      break;
    case V_TENSOR:
      g_free (v->u.tensor);
      break;
    default:
      break;
    }
  g_free (v);
}

static const char *
kind_name (VKind k)
{
  static const char *const names[] = {
    "None", "bool", "int", "int", "float", "str", "tuple", "list", "dict", "global", "storage", "tensor",
  };
  return (guint) k < G_N_ELEMENTS (names) ? names[k] : "?";
}

/* ---- the pickle machine --------------------------------------------------- */

typedef enum { CONTAINER_ZIP, CONTAINER_LEGACY } Container;

typedef struct {
  Container     container;
  /* zip: entries by name, the archive prefix */
  GHashTable   *zip_entries;      /* name -> ZipEntry* */
  char         *zip_prefix;
  /* storages by key (both containers) */
  GHashTable   *storages;         /* key -> Storage* */
  GError      **error;
} Reader;

typedef struct {
  Reader       *r;
  const guint8 *start, *p, *end;
  GPtrArray    *arena;            /* owns every value */
  GPtrArray    *stack;
  GArray       *marks;            /* guint stack positions */
  GPtrArray    *memo;
  gboolean      persid_ok;        /* the state_dict pickle only */
  GError      **error;
} Vm;

static Value *
vm_new (Vm *vm, VKind kind)
{
  Value *v;

  if (vm->arena->len >= MAX_VALUES)
    {
      g_set_error (vm->error, P2P_ERROR, P2P_ERROR_BAD_HEADER,
                   /* TRANSLATORS: a checkpoint is a PyTorch .pth file; it
                    * holds a Python "pickle" (the data serialised as a
                    * small program of opcodes, read by us without running
                    * anything).  A state_dict is PyTorch's dictionary of
                    * weight tensors: keep the word as it is. */
                   _("The checkpoint's pickle creates more than %d values: not a state_dict"),
                   MAX_VALUES);
      return NULL;
    }
  v = g_new0 (Value, 1);
  v->kind = kind;
  if (kind == V_TUPLE || kind == V_LIST || kind == V_DICT)
    v->u.items = g_ptr_array_new ();
  g_ptr_array_add (vm->arena, v);
  return v;
}

static gsize
vm_pos (const Vm *vm)
{
  return (gsize) (vm->p - vm->start);
}

static gboolean
vm_push (Vm *vm, Value *v)
{
  GError **error = vm->error;

  if (!v)
    return FALSE;
  if (vm->stack->len >= MAX_STACK)
    FAIL (P2P_ERROR_BAD_HEADER, _("The checkpoint's pickle nests deeper than %d values: "
                                  "not a state_dict"), MAX_STACK);
  g_ptr_array_add (vm->stack, v);
  return TRUE;
}

/* Lowest stack index that pop may reach (above the innermost mark). */
static guint
vm_floor (const Vm *vm)
{
  return vm->marks->len ? g_array_index (vm->marks, guint, vm->marks->len - 1) : 0;
}

static Value *
vm_pop (Vm *vm)
{
  if (vm->stack->len <= vm_floor (vm))
    {
      g_set_error (vm->error, P2P_ERROR, P2P_ERROR_BAD_HEADER,
                   _("The checkpoint's pickle is malformed (stack underflow at byte %llu)"),
                   (unsigned long long) vm_pos (vm));
      return NULL;
    }
  return g_ptr_array_steal_index (vm->stack, vm->stack->len - 1);
}

static Value *
vm_top (Vm *vm)
{
  if (vm->stack->len <= vm_floor (vm))
    {
      g_set_error (vm->error, P2P_ERROR, P2P_ERROR_BAD_HEADER,
                   _("The checkpoint's pickle is malformed (stack underflow at byte %llu)"),
                   (unsigned long long) vm_pos (vm));
      return NULL;
    }
  return vm->stack->pdata[vm->stack->len - 1];
}

/* Pops everything above the innermost mark, and the mark; the values are
 * appended to @out in stack order. */
static gboolean
vm_pop_mark (Vm *vm, GPtrArray *out)
{
  GError **error = vm->error;
  guint m;

  if (vm->marks->len == 0)
    /* TRANSLATORS: MARK, GLOBAL and STACK_GLOBAL are pickle opcode names:
     * keep them as they are. */
    FAIL (P2P_ERROR_BAD_HEADER, _("The checkpoint's pickle is malformed (no MARK at byte %llu)"),
          (unsigned long long) vm_pos (vm));
  m = g_array_index (vm->marks, guint, vm->marks->len - 1);
  g_array_set_size (vm->marks, vm->marks->len - 1);
  for (guint i = m; i < vm->stack->len; i++)
    if (out)
      g_ptr_array_add (out, vm->stack->pdata[i]);
  g_ptr_array_set_size (vm->stack, m);
  return TRUE;
}

static gboolean
vm_need (Vm *vm, gsize n)
{
  GError **error = vm->error;

  if ((gsize) (vm->end - vm->p) < n)
    FAIL (P2P_ERROR_TRUNCATED, _("The checkpoint is truncated (its pickle ends inside an "
                                 "instruction at byte %llu)"), (unsigned long long) vm_pos (vm));
  return TRUE;
}

static Value *
vm_string (Vm *vm, gsize len, gboolean latin1)
{
  GError **error = vm->error;
  const char *src;
  Value *v;

  if (len > MAX_STRING)
    FAILN (P2P_ERROR_BAD_HEADER, _("The checkpoint's pickle holds a string of %llu bytes "
                                   "(at most %d are expected in a state_dict)"),
           (unsigned long long) len, MAX_STRING);
  if (!vm_need (vm, len))
    return NULL;
  src = (const char *) vm->p;
  if (memchr (src, 0, len))
    FAILN (P2P_ERROR_BAD_HEADER, _("The checkpoint's pickle holds a string with a NUL character"));
  if (!(v = vm_new (vm, V_STR)))
    return NULL;
  if (latin1)
    {
      /* Python 2 byte strings are decoded as Latin-1: each byte one code point. */
      GString *s = g_string_sized_new (len);
      for (gsize i = 0; i < len; i++)
        g_string_append_unichar (s, (guchar) src[i]);
      v->u.str.len = s->len;
      v->u.str.s = g_string_free (s, FALSE);
    }
  else
    {
      if (!g_utf8_validate_len (src, len, NULL))
        FAILN (P2P_ERROR_BAD_HEADER, _("The checkpoint's pickle holds a string that is not valid UTF-8"));
      v->u.str.s = g_strndup (src, len);
      v->u.str.len = len;
    }
  vm->p += len;
  return v;
}

static gboolean
is_str (const Value *v, const char *s)
{
  return v && v->kind == V_STR && strcmp (v->u.str.s, s) == 0;
}

static Value *
vm_global (Vm *vm, const char *module, const char *name)
{
  GError **error = vm->error;
  Value *v;
  GlobalKind kind;
  StorageType stype = ST_F32;

  if (strcmp (module, "collections") == 0 && strcmp (name, "OrderedDict") == 0)
    kind = GL_ORDERED_DICT;
  else if (strcmp (module, "torch._utils") == 0 && strcmp (name, "_rebuild_tensor_v2") == 0)
    kind = GL_REBUILD_TENSOR_V2;
  else if (strcmp (module, "torch._utils") == 0 && strcmp (name, "_rebuild_tensor") == 0)
    kind = GL_REBUILD_TENSOR;
  else if (strcmp (module, "torch._utils") == 0 && strcmp (name, "_rebuild_parameter") == 0)
    kind = GL_REBUILD_PARAMETER;
  else if (strcmp (module, "torch") == 0)
    {
      guint i;
      for (i = 0; i < G_N_ELEMENTS (storage_types); i++)
        if (strcmp (name, storage_types[i].name) == 0)
          break;
      if (i == G_N_ELEMENTS (storage_types))
        goto refused;
      kind = GL_STORAGE_TYPE;
      stype = storage_types[i].type;
    }
  else if (strcmp (module, "torch.storage") == 0 && strcmp (name, "_load_from_bytes") == 0)
    /* This would unpickle a second, nested checkpoint: refused rather than
     * recursed into; torch.save never writes it for a state_dict. */
    FAILN (P2P_ERROR_UNSUPPORTED, _("The checkpoint stores a tensor as an embedded pickle "
                                    "(torch.storage._load_from_bytes), which is not supported: "
                                    "save the state_dict with torch.save"));
  else
    goto refused;

  if (!(v = vm_new (vm, V_GLOBAL)))
    return NULL;
  v->u.g.kind = kind;
  v->u.g.stype = stype;
  return v;

refused:
  {
    g_autofree char *m = g_strescape (module, NULL);
    g_autofree char *n = g_strescape (name, NULL);
    FAILN (P2P_ERROR_UNSUPPORTED, _("The checkpoint refers to “%s.%s”, which is not part of a "
                                    "state_dict: refused (only tensors and their containers are "
                                    "read from PyTorch files)"), m, n);
  }
}

/* Reads an int that must lie in [lo, hi]. */
static gboolean
get_int (const Value *v, gint64 lo, gint64 hi, gint64 *out)
{
  if (!v)
    return FALSE;
  if (v->kind == V_BOOL)
    {
      *out = v->u.b;
      return lo <= *out && *out <= hi;
    }
  if (v->kind != V_INT || v->u.i < lo || v->u.i > hi)
    return FALSE;
  *out = v->u.i;
  return TRUE;
}

/* ('storage', torch.XStorage, key, location, numel[, view_metadata]) */
static Value *
vm_persistent (Vm *vm, Value *pid)
{
  GError **error = vm->error;
  Reader *r = vm->r;
  GPtrArray *t;
  const Value *type;
  const char *key;
  gint64 numel;
  Storage *s;
  Value *v;
  guint64 nbytes;

  if (!vm->persid_ok)
    FAILN (P2P_ERROR_BAD_HEADER, _("The checkpoint's pickle refers to a storage outside the state_dict"));
  if (pid->kind != V_TUPLE)
    /* TRANSLATORS: here and in the other checkpoint messages with "a %s",
     * %s is a Python type name (None, bool, int, float, str, tuple, list,
     * dict, global, storage or tensor), which stays in English. */
    FAILN (P2P_ERROR_BAD_HEADER, _("The checkpoint has a storage reference that is a %s, not a tuple"),
           kind_name (pid->kind));
  t = pid->u.items;
  if (t->len < 5 || t->len > 6 || !is_str (t->pdata[0], "storage"))
    FAILN (P2P_ERROR_BAD_HEADER, _("The checkpoint has a malformed storage reference"));
  type = t->pdata[1];
  if (type->kind != V_GLOBAL || type->u.g.kind != GL_STORAGE_TYPE)
    FAILN (P2P_ERROR_BAD_HEADER, _("The checkpoint has a storage reference without a storage type"));
  if (((Value *) t->pdata[2])->kind != V_STR || ((Value *) t->pdata[3])->kind != V_STR)
    FAILN (P2P_ERROR_BAD_HEADER, _("The checkpoint has a storage reference with a bad key or location"));
  key = ((Value *) t->pdata[2])->u.str.s;
  if (!get_int (t->pdata[4], 0, G_MAXINT64, &numel))
    FAILN (P2P_ERROR_BAD_TENSOR, _("Storage “%s” has an invalid size"), key);
  if (t->len == 6 && ((Value *) t->pdata[5])->kind != V_NONE)
    FAILN (P2P_ERROR_UNSUPPORTED, _("Storage “%s” is a view of another storage (PyTorch 0.3 "
                                    "format), which is not supported"), key);
  if (!g_uint64_checked_mul (&nbytes, (guint64) numel, st_elem (type->u.g.stype)) || nbytes > G_MAXSIZE)
    FAILN (P2P_ERROR_BAD_TENSOR, _("Storage “%s” declares %lld elements: too large"),
           key, (long long) numel);

  s = g_hash_table_lookup (r->storages, key);
  if (s)
    {
      /* The same storage seen again (shared by several tensors). */
      if (s->type != type->u.g.stype || s->numel != (guint64) numel)
        FAILN (P2P_ERROR_BAD_TENSOR, _("Storage “%s” is declared twice with different types or sizes"), key);
    }
  else
    {
      if (g_hash_table_size (r->storages) >= MAX_TENSORS)
        FAILN (P2P_ERROR_BAD_HEADER, _("The checkpoint has more than %d storages: not a generator"),
               MAX_TENSORS);
      s = g_new0 (Storage, 1);
      s->key = g_strdup (key);
      s->type = type->u.g.stype;
      s->numel = (guint64) numel;
      g_hash_table_insert (r->storages, s->key, s);
    }
  if (!(v = vm_new (vm, V_STORAGE)))
    return NULL;
  v->u.storage = s;
  return v;
}

/* Only contiguous tensors inside their storage are accepted: a state_dict
 * saved by torch.save never holds anything else. */
static Value *
vm_rebuild_tensor (Vm *vm, GPtrArray *args, gboolean v2)
{
  GError **error = vm->error;
  const Value *storage, *size, *stride;
  gint64 offset;
  Tensor *t;
  Value *v;
  guint64 numel = 1, expect = 1, end;

  if (args->len < 4 || (v2 && args->len > 7) || (!v2 && args->len > 4))
    FAILN (P2P_ERROR_BAD_HEADER, _("The checkpoint rebuilds a tensor with %u arguments"), args->len);
  storage = args->pdata[0];
  size = args->pdata[2];
  stride = args->pdata[3];
  if (storage->kind != V_STORAGE)
    FAILN (P2P_ERROR_BAD_HEADER, _("The checkpoint rebuilds a tensor from a %s, not a storage"),
           kind_name (storage->kind));
  if (!get_int (args->pdata[1], 0, G_MAXINT64, &offset))
    FAILN (P2P_ERROR_BAD_TENSOR, _("A tensor of the checkpoint has an invalid storage offset"));
  if (size->kind != V_TUPLE || stride->kind != V_TUPLE || size->u.items->len != stride->u.items->len)
    FAILN (P2P_ERROR_BAD_TENSOR, _("A tensor of the checkpoint has a malformed shape or stride"));
  if (size->u.items->len > MAX_DIMS)
    FAILN (P2P_ERROR_BAD_TENSOR, _("A tensor of the checkpoint has %u dimensions (at most %d)"),
           size->u.items->len, MAX_DIMS);
  if (v2 && args->len >= 5 && ((Value *) args->pdata[4])->kind != V_BOOL)
    FAILN (P2P_ERROR_BAD_HEADER, _("The checkpoint rebuilds a tensor with a malformed requires_grad"));

  t = g_new0 (Tensor, 1);
  t->storage = storage->u.storage;
  t->offset = (guint64) offset;
  t->ndim = (int) size->u.items->len;
  for (int i = 0; i < t->ndim; i++)
    if (!get_int (size->u.items->pdata[i], 0, G_MAXINT32, &t->shape[i]) ||
        !g_uint64_checked_mul (&numel, numel, (guint64) t->shape[i]))
      {
        g_free (t);
        FAILN (P2P_ERROR_BAD_TENSOR, _("A tensor of the checkpoint has an invalid size"));
      }
  for (int i = t->ndim - 1; i >= 0; i--)
    {
      gint64 st;
      if (!get_int (stride->u.items->pdata[i], 0, G_MAXINT64, &st))
        {
          g_free (t);
          FAILN (P2P_ERROR_BAD_TENSOR, _("A tensor of the checkpoint has an invalid stride"));
        }
      /* A dimension of size 1 may have any stride; PyTorch does the same. */
      if (t->shape[i] != 1 && (guint64) st != expect && numel != 0)
        {
          g_free (t);
          FAILN (P2P_ERROR_BAD_TENSOR, _("A tensor of the checkpoint is not contiguous (only "
                                         "contiguous tensors are supported)"));
        }
      expect *= (guint64) t->shape[i];   /* <= numel: no overflow */
    }
  t->numel = numel;
  if (!g_uint64_checked_add (&end, t->offset, numel) || end > t->storage->numel)
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_TENSOR,
                   _("A tensor of the checkpoint lies outside its storage “%s” "
                     "(elements %llu + %llu of %llu)"),
                   t->storage->key, (unsigned long long) t->offset, (unsigned long long) numel,
                   (unsigned long long) t->storage->numel);
      g_free (t);
      return NULL;
    }
  if (!(v = vm_new (vm, V_TENSOR)))
    {
      g_free (t);
      return NULL;
    }
  v->u.tensor = t;
  return v;
}

/* REDUCE: only the allowed callables, with the argument shapes they take. */
static Value *
vm_call (Vm *vm, Value *callable, Value *args)
{
  GError **error = vm->error;

  if (callable->kind != V_GLOBAL || callable->u.g.kind == GL_STORAGE_TYPE)
    FAILN (P2P_ERROR_UNSUPPORTED, _("The checkpoint's pickle calls a %s: only tensors and "
                                    "ordered dicts are rebuilt"), kind_name (callable->kind));
  if (args->kind != V_TUPLE)
    FAILN (P2P_ERROR_BAD_HEADER, _("The checkpoint's pickle calls a function without an argument tuple"));
  switch (callable->u.g.kind)
    {
    case GL_ORDERED_DICT:
      if (args->u.items->len != 0)
        FAILN (P2P_ERROR_UNSUPPORTED, _("The checkpoint builds an OrderedDict from arguments, "
                                        "which torch.save does not write"));
      return vm_new (vm, V_DICT);
    case GL_REBUILD_TENSOR:
      return vm_rebuild_tensor (vm, args->u.items, FALSE);
    case GL_REBUILD_TENSOR_V2:
      return vm_rebuild_tensor (vm, args->u.items, TRUE);
    case GL_REBUILD_PARAMETER:
      /* (data, requires_grad, backward_hooks): the parameter is its data. */
      if (args->u.items->len != 3 || ((Value *) args->u.items->pdata[0])->kind != V_TENSOR)
        FAILN (P2P_ERROR_BAD_HEADER, _("The checkpoint rebuilds a parameter from something "
                                       "other than a tensor"));
      return args->u.items->pdata[0];
    case GL_STORAGE_TYPE:
    default:
      break;
    }
  FAILN (P2P_ERROR_UNSUPPORTED, _("The checkpoint's pickle calls an unsupported function"));
}

static gboolean
vm_memo_put (Vm *vm, guint64 index)
{
  GError **error = vm->error;
  Value *v = vm_top (vm);

  if (!v)
    return FALSE;
  if (index >= MAX_MEMO)
    /* TRANSLATORS: the memo is the pickle's table of values kept for
     * reuse; a slot is one numbered entry in it. */
    FAIL (P2P_ERROR_BAD_HEADER, _("The checkpoint's pickle uses memo slot %llu "
                                  "(at most %d are expected)"), (unsigned long long) index, MAX_MEMO);
  if (index >= vm->memo->len)
    g_ptr_array_set_size (vm->memo, (guint) index + 1);
  vm->memo->pdata[index] = v;
  return TRUE;
}

static gboolean
vm_memo_get (Vm *vm, guint64 index)
{
  GError **error = vm->error;

  if (index >= vm->memo->len || !vm->memo->pdata[index])
    FAIL (P2P_ERROR_BAD_HEADER, _("The checkpoint's pickle reads memo slot %llu, "
                                  "which was never set"), (unsigned long long) index);
  return vm_push (vm, vm->memo->pdata[index]);
}

static gboolean
vm_tuple_from (Vm *vm, GPtrArray *items)
{
  Value *t = vm_new (vm, V_TUPLE);

  if (!t)
    return FALSE;
  for (guint i = 0; i < items->len; i++)
    g_ptr_array_add (t->u.items, items->pdata[i]);
  return vm_push (vm, t);
}

static gboolean
dict_key_ok (Vm *vm, const Value *k)
{
  GError **error = vm->error;

  /* Python would refuse unhashable keys; state_dict keys are strings, the
   * metadata dicts use strings and ints. */
  if (k->kind != V_STR && k->kind != V_INT && k->kind != V_BOOL && k->kind != V_NONE)
    FAIL (P2P_ERROR_BAD_HEADER, _("The checkpoint's pickle uses a %s as a dict key"), kind_name (k->kind));
  return TRUE;
}

/* Runs one pickle from vm->p; on success *result is the STOP value and
 * vm->p points after the STOP. */
static gboolean
vm_run (Vm *vm, Value **result)
{
  GError **error = vm->error;
  g_autoptr(GPtrArray) tmp = g_ptr_array_new ();

  while (TRUE)
    {
      guint8 op;
      gsize at = vm_pos (vm);

      if (!vm_need (vm, 1))
        return FALSE;
      op = *vm->p++;
      g_ptr_array_set_size (tmp, 0);
      switch (op)
        {
        case 0x80:   /* PROTO */
          if (!vm_need (vm, 1))
            return FALSE;
          if (*vm->p < 2 || *vm->p > 5)
            FAIL (P2P_ERROR_UNSUPPORTED, _("The checkpoint uses pickle protocol %d (2 to 5 are supported)"),
                  *vm->p);
          vm->p++;
          break;
        case 0x95:   /* FRAME: a size hint only */
          if (!vm_need (vm, 8))
            return FALSE;
          if (rd64 (vm->p) > (guint64) (vm->end - vm->p - 8))
            FAIL (P2P_ERROR_TRUNCATED, _("The checkpoint is truncated (a pickle frame runs past its end)"));
          vm->p += 8;
          break;
        case '}':
          if (!vm_push (vm, vm_new (vm, V_DICT)))
            return FALSE;
          break;
        case ']':
          if (!vm_push (vm, vm_new (vm, V_LIST)))
            return FALSE;
          break;
        case ')':
          if (!vm_push (vm, vm_new (vm, V_TUPLE)))
            return FALSE;
          break;
        case '(':    /* MARK */
          if (vm->marks->len >= MAX_MARKS)
            FAIL (P2P_ERROR_BAD_HEADER, _("The checkpoint's pickle nests more than %d levels deep: "
                                          "not a state_dict"), MAX_MARKS);
          {
            guint m = vm->stack->len;
            g_array_append_val (vm->marks, m);
          }
          break;
        case 0x85: case 0x86: case 0x87:   /* TUPLE1..3 */
          {
            const int n = op - 0x84;
            Value *items[3];
            for (int i = n - 1; i >= 0; i--)
              if (!(items[i] = vm_pop (vm)))
                return FALSE;
            for (int i = 0; i < n; i++)
              g_ptr_array_add (tmp, items[i]);
            if (!vm_tuple_from (vm, tmp))
              return FALSE;
          }
          break;
        case 't':    /* TUPLE */
          if (!vm_pop_mark (vm, tmp) || !vm_tuple_from (vm, tmp))
            return FALSE;
          break;
        case 's':    /* SETITEM */
        case 'u':    /* SETITEMS */
          {
            Value *d;
            if (op == 's')
              {
                Value *val = vm_pop (vm), *key = val ? vm_pop (vm) : NULL;
                if (!key)
                  return FALSE;
                g_ptr_array_add (tmp, key);
                g_ptr_array_add (tmp, val);
              }
            else if (!vm_pop_mark (vm, tmp))
              return FALSE;
            if (!(d = vm_top (vm)))
              return FALSE;
            if (d->kind != V_DICT)
              FAIL (P2P_ERROR_BAD_HEADER, _("The checkpoint's pickle sets an item of a %s"), kind_name (d->kind));
            if (tmp->len % 2)
              FAIL (P2P_ERROR_BAD_HEADER, _("The checkpoint's pickle sets dict items from an odd "
                                            "number of values"));
            for (guint i = 0; i < tmp->len; i += 2)
              {
                if (!dict_key_ok (vm, tmp->pdata[i]))
                  return FALSE;
                g_ptr_array_add (d->u.items, tmp->pdata[i]);
                g_ptr_array_add (d->u.items, tmp->pdata[i + 1]);
              }
          }
          break;
        case 'a':    /* APPEND */
        case 'e':    /* APPENDS */
          {
            Value *l;
            if (op == 'a')
              {
                Value *x = vm_pop (vm);
                if (!x)
                  return FALSE;
                g_ptr_array_add (tmp, x);
              }
            else if (!vm_pop_mark (vm, tmp))
              return FALSE;
            if (!(l = vm_top (vm)))
              return FALSE;
            if (l->kind != V_LIST)
              FAIL (P2P_ERROR_BAD_HEADER, _("The checkpoint's pickle appends to a %s"), kind_name (l->kind));
            for (guint i = 0; i < tmp->len; i++)
              g_ptr_array_add (l->u.items, tmp->pdata[i]);
          }
          break;
        case 'J': case 'K': case 'M':   /* BININT, BININT1, BININT2 */
          {
            const gsize n = op == 'J' ? 4 : op == 'K' ? 1 : 2;
            Value *v;
            if (!vm_need (vm, n) || !(v = vm_new (vm, V_INT)))
              return FALSE;
            v->u.i = op == 'J' ? (gint64) (gint32) rd32 (vm->p) : op == 'K' ? vm->p[0] : rd16 (vm->p);
            vm->p += n;
            if (!vm_push (vm, v))
              return FALSE;
          }
          break;
        case 0x8a:   /* LONG1: n-byte two's complement, little-endian */
          {
            gsize n;
            Value *v;
            if (!vm_need (vm, 1))
              return FALSE;
            n = *vm->p++;
            if (!vm_need (vm, n))
              return FALSE;
            if (n <= 8)
              {
                guint64 u = 0;
                if (!(v = vm_new (vm, V_INT)))
                  return FALSE;
                for (gsize i = 0; i < n; i++)
                  u |= (guint64) vm->p[i] << (8 * i);
                if (n > 0 && n < 8 && (vm->p[n - 1] & 0x80))
                  u |= ~(guint64) 0 << (8 * n);   /* sign-extend */
                v->u.i = (gint64) u;
              }
            else
              {
                /* Only the legacy magic number is this large; kept as bytes. */
                if (!(v = vm_new (vm, V_BIGINT)))
                  return FALSE;
                v->u.str.s = g_malloc (n);
                memcpy (v->u.str.s, vm->p, n);
                v->u.str.len = n;
              }
            vm->p += n;
            if (!vm_push (vm, v))
              return FALSE;
          }
          break;
        case 'X':    /* BINUNICODE */
        case 0x8c:   /* SHORT_BINUNICODE */
        case 'T':    /* BINSTRING */
        case 'U':    /* SHORT_BINSTRING */
          {
            const gboolean short_len = op == 0x8c || op == 'U';
            guint64 len;
            if (!vm_need (vm, short_len ? 1 : 4))
              return FALSE;
            len = short_len ? *vm->p : rd32 (vm->p);
            if (op == 'T' && (rd32 (vm->p) & 0x80000000u))
              FAIL (P2P_ERROR_BAD_HEADER, _("The checkpoint's pickle has a string of negative length"));
            vm->p += short_len ? 1 : 4;
            if (!vm_push (vm, vm_string (vm, (gsize) len, op == 'T' || op == 'U')))
              return FALSE;
          }
          break;
        case 'G':    /* BINFLOAT: big-endian IEEE double */
          {
            guint64 bits = 0;
            Value *v;
            if (!vm_need (vm, 8) || !(v = vm_new (vm, V_FLOAT)))
              return FALSE;
            for (int i = 0; i < 8; i++)
              bits = bits << 8 | vm->p[i];
            memcpy (&v->u.f, &bits, 8);
            vm->p += 8;
            if (!vm_push (vm, v))
              return FALSE;
          }
          break;
        case 'N':
          if (!vm_push (vm, vm_new (vm, V_NONE)))
            return FALSE;
          break;
        case 0x88: case 0x89:   /* NEWTRUE, NEWFALSE */
          {
            Value *v = vm_new (vm, V_BOOL);
            if (!v)
              return FALSE;
            v->u.b = op == 0x88;
            if (!vm_push (vm, v))
              return FALSE;
          }
          break;
        case 'q':    /* BINPUT */
          if (!vm_need (vm, 1) || !vm_memo_put (vm, *vm->p))
            return FALSE;
          vm->p++;
          break;
        case 'r':    /* LONG_BINPUT */
          if (!vm_need (vm, 4) || !vm_memo_put (vm, rd32 (vm->p)))
            return FALSE;
          vm->p += 4;
          break;
        case 0x94:   /* MEMOIZE */
          if (!vm_memo_put (vm, vm->memo->len))
            return FALSE;
          break;
        case 'h':    /* BINGET */
          if (!vm_need (vm, 1) || !vm_memo_get (vm, *vm->p))
            return FALSE;
          vm->p++;
          break;
        case 'j':    /* LONG_BINGET */
          if (!vm_need (vm, 4) || !vm_memo_get (vm, rd32 (vm->p)))
            return FALSE;
          vm->p += 4;
          break;
        case 'c':    /* GLOBAL "module\nname\n" */
          {
            const guint8 *nl1, *nl2;
            g_autofree char *module = NULL, *name = NULL;
            gsize avail = (gsize) (vm->end - vm->p);
            nl1 = memchr (vm->p, '\n', MIN (avail, 256));
            nl2 = nl1 ? memchr (nl1 + 1, '\n', MIN ((gsize) (vm->end - nl1 - 1), 256)) : NULL;
            if (!nl2)
              FAIL (avail < 512 ? P2P_ERROR_TRUNCATED : P2P_ERROR_BAD_HEADER,
                    _("The checkpoint's pickle has a malformed GLOBAL at byte %llu"),
                    (unsigned long long) at);
            module = g_strndup ((const char *) vm->p, (gsize) (nl1 - vm->p));
            name = g_strndup ((const char *) nl1 + 1, (gsize) (nl2 - nl1 - 1));
            vm->p = nl2 + 1;
            if (!vm_push (vm, vm_global (vm, module, name)))
              return FALSE;
          }
          break;
        case 0x93:   /* STACK_GLOBAL */
          {
            Value *name = vm_pop (vm), *module = name ? vm_pop (vm) : NULL;
            if (!module)
              return FALSE;
            if (module->kind != V_STR || name->kind != V_STR)
              FAIL (P2P_ERROR_BAD_HEADER, _("The checkpoint's pickle has a malformed STACK_GLOBAL"));
            if (!vm_push (vm, vm_global (vm, module->u.str.s, name->u.str.s)))
              return FALSE;
          }
          break;
        case 'R':    /* REDUCE */
          {
            Value *args = vm_pop (vm), *callable = args ? vm_pop (vm) : NULL;
            if (!callable || !vm_push (vm, vm_call (vm, callable, args)))
              return FALSE;
          }
          break;
        case 'b':    /* BUILD: object state (OrderedDict._metadata): ignored */
          {
            Value *state = vm_pop (vm);
            if (!state || !vm_top (vm))
              return FALSE;
          }
          break;
        case 'Q':    /* BINPERSID */
          {
            Value *pid = vm_pop (vm);
            if (!pid || !vm_push (vm, vm_persistent (vm, pid)))
              return FALSE;
          }
          break;
        case '0':    /* POP */
          if (!vm_pop (vm))
            return FALSE;
          break;
        case '1':    /* POP_MARK */
          if (!vm_pop_mark (vm, NULL))
            return FALSE;
          break;
        case '.':    /* STOP */
          if (vm->marks->len)
            FAIL (P2P_ERROR_BAD_HEADER, _("The checkpoint's pickle ends with an open MARK"));
          if (vm->stack->len != 1)
            FAIL (P2P_ERROR_BAD_HEADER, _("The checkpoint's pickle ends with %u values on its stack "
                                          "instead of one"), vm->stack->len);
          *result = vm->stack->pdata[0];
          g_ptr_array_set_size (vm->stack, 0);
          return TRUE;
        default:
          FAIL (P2P_ERROR_UNSUPPORTED, _("The checkpoint's pickle uses opcode 0x%02x at byte %llu, "
                                         "which state_dicts do not need: refused"),
                op, (unsigned long long) at);
        }
    }
}

static Vm *
vm_init (Reader *r, const guint8 *data, gsize size, GError **error)
{
  Vm *vm = g_new0 (Vm, 1);

  vm->r = r;
  vm->start = vm->p = data;
  vm->end = data + size;
  vm->arena = g_ptr_array_new_with_free_func (value_free);
  vm->stack = g_ptr_array_new ();
  vm->marks = g_array_new (FALSE, FALSE, sizeof (guint));
  vm->memo = g_ptr_array_new ();
  vm->error = error;
  return vm;
}

static void
vm_free (Vm *vm)
{
  if (!vm)
    return;
  g_ptr_array_unref (vm->stack);
  g_array_unref (vm->marks);
  g_ptr_array_unref (vm->memo);
  g_ptr_array_unref (vm->arena);
  g_free (vm);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Vm, vm_free)

/* Starts a new pickle in the same byte stream (legacy container): memo and
 * stack are per pickle. */
static void
vm_reset (Vm *vm)
{
  g_ptr_array_set_size (vm->stack, 0);
  g_array_set_size (vm->marks, 0);
  g_ptr_array_set_size (vm->memo, 0);
}

/* ---- CRC-32 (zip entries) -------------------------------------------------- */

/* Slicing-by-8: checking a 200 MB checkpoint byte by byte would take
 * seconds. */
static guint32 crc_table[8][256];

static void
crc_init (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done))
    {
      for (guint32 n = 0; n < 256; n++)
        {
          guint32 c = n;
          for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
          crc_table[0][n] = c;
        }
      for (guint32 n = 0; n < 256; n++)
        for (int t = 1; t < 8; t++)
          crc_table[t][n] = (crc_table[t - 1][n] >> 8) ^ crc_table[0][crc_table[t - 1][n] & 0xff];
      g_once_init_leave (&done, 1);
    }
}

static guint32
crc32_of (const guint8 *p, gsize n)
{
  guint32 c = 0xffffffffu;

  crc_init ();
  while (n >= 8)
    {
      const guint32 a = c ^ rd32 (p), b = rd32 (p + 4);
      c = crc_table[7][a & 0xff] ^ crc_table[6][(a >> 8) & 0xff] ^
          crc_table[5][(a >> 16) & 0xff] ^ crc_table[4][a >> 24] ^
          crc_table[3][b & 0xff] ^ crc_table[2][(b >> 8) & 0xff] ^
          crc_table[1][(b >> 16) & 0xff] ^ crc_table[0][b >> 24];
      p += 8;
      n -= 8;
    }
  while (n--)
    c = crc_table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

/* ---- zip container -------------------------------------------------------- */

typedef struct {
  char         *name;
  const guint8 *data;
  guint64       size;
  guint32       crc;
  gboolean      crc_checked;
} ZipEntry;

static void
zip_entry_free (gpointer p)
{
  ZipEntry *e = p;
  g_free (e->name);
  g_free (e);
}

static gboolean
zip_entry_verify (ZipEntry *e, GError **error)
{
  if (!e->crc_checked)
    {
      if (crc32_of (e->data, (gsize) e->size) != e->crc)
        FAIL (P2P_ERROR_BAD_TENSOR, _("The checkpoint is corrupted: entry “%s” fails its checksum"), e->name);
      e->crc_checked = TRUE;
    }
  return TRUE;
}

/* Finds the central directory (zip64 aware) and indexes the entries. */
static gboolean
zip_read_directory (Reader *r, const guint8 *d, gsize size, GError **error)
{
  gsize eocd = 0;
  gboolean found = FALSE;
  guint64 n_entries, cd_size, cd_off, pos;

  if (size < 22)
    FAIL (P2P_ERROR_TRUNCATED, _("The checkpoint is truncated (a zip archive without its directory)"));
  /* The end record is 22 bytes plus a comment of at most 65535. */
  for (gsize i = size - 22 + 1; i-- > 0 && size - i <= 22 + 0xffff;)
    if (rd32 (d + i) == 0x06054b50u && i + 22 + rd16 (d + i + 20) <= size)
      {
        eocd = i;
        found = TRUE;
        break;
      }
  if (!found)
    FAIL (P2P_ERROR_TRUNCATED, _("The checkpoint is truncated or damaged (the zip archive's "
                                 "directory is missing)"));
  if (rd16 (d + eocd + 4) != 0 && rd16 (d + eocd + 4) != 0xffff)
    FAIL (P2P_ERROR_UNSUPPORTED, _("The checkpoint is a multi-part zip archive, which is not supported"));
  n_entries = rd16 (d + eocd + 10);
  cd_size = rd32 (d + eocd + 12);
  cd_off = rd32 (d + eocd + 16);
  if (n_entries == 0xffff || cd_size == 0xffffffffu || cd_off == 0xffffffffu)
    {
      guint64 z64;
      /* ZIP64: a locator right before the end record points to the zip64
       * end record, which holds the 64-bit figures. */
      if (eocd < 20 || rd32 (d + eocd - 20) != 0x07064b50u)
        FAIL (P2P_ERROR_BAD_HEADER, _("The checkpoint's zip archive lacks its zip64 directory locator"));
      z64 = rd64 (d + eocd - 20 + 8);
      if (z64 > eocd - 20 || eocd - 20 - z64 < 56 || rd32 (d + z64) != 0x06064b50u)
        FAIL (P2P_ERROR_BAD_HEADER, _("The checkpoint's zip64 directory record is invalid"));
      n_entries = rd64 (d + z64 + 32);
      cd_size = rd64 (d + z64 + 40);
      cd_off = rd64 (d + z64 + 48);
      eocd = (gsize) z64;   /* the directory must end before this record */
    }
  if (cd_off > eocd || cd_size > eocd - cd_off)
    FAIL (P2P_ERROR_TRUNCATED, _("The checkpoint is truncated or damaged (its zip directory "
                                 "lies outside the file)"));
  if (n_entries > MAX_ZIP_ENTRIES || n_entries * 46 > cd_size)
    FAIL (P2P_ERROR_BAD_HEADER, _("The checkpoint's zip directory declares %llu entries, "
                                  "which do not fit in it"), (unsigned long long) n_entries);

  pos = cd_off;
  for (guint64 k = 0; k < n_entries; k++)
    {
      const guint8 *c = d + pos;
      guint16 flags, method, nlen, xlen, clen;
      guint64 csize, usize, loff, data_off, data_end;
      g_autofree char *name = NULL;
      const guint8 *extra;
      ZipEntry *e;

      if (cd_off + cd_size - pos < 46 || rd32 (c) != 0x02014b50u)
        FAIL (P2P_ERROR_BAD_HEADER, _("The checkpoint's zip directory is damaged (entry %llu)"),
              (unsigned long long) k);
      flags = rd16 (c + 8);
      method = rd16 (c + 10);
      csize = rd32 (c + 20);
      usize = rd32 (c + 24);
      nlen = rd16 (c + 28);
      xlen = rd16 (c + 30);
      clen = rd16 (c + 32);
      loff = rd32 (c + 42);
      if (cd_off + cd_size - pos - 46 < (guint64) nlen + xlen + clen)
        FAIL (P2P_ERROR_BAD_HEADER, _("The checkpoint's zip directory is damaged (entry %llu)"),
              (unsigned long long) k);
      if (nlen == 0 || memchr (c + 46, 0, nlen) || !g_utf8_validate_len ((const char *) c + 46, nlen, NULL))
        FAIL (P2P_ERROR_BAD_HEADER, _("The checkpoint's zip archive has an entry with an invalid name"));
      name = g_strndup ((const char *) c + 46, nlen);
      extra = c + 46 + nlen;
      /* ZIP64 extended information: the 64-bit values of the fields that
       * are 0xffffffff, in this order. */
      if (usize == 0xffffffffu || csize == 0xffffffffu || loff == 0xffffffffu)
        {
          gsize xp = 0;
          gboolean got = FALSE;
          while (xp + 4 <= xlen)
            {
              guint16 id = rd16 (extra + xp), len = rd16 (extra + xp + 2);
              const guint8 *f = extra + xp + 4, *fend;
              if (xp + 4 + len > xlen)
                break;
              fend = f + len;
              if (id == 0x0001)
                {
                  if (usize == 0xffffffffu)
                    {
                      if (fend - f < 8) break;
                      usize = rd64 (f), f += 8;
                    }
                  if (csize == 0xffffffffu)
                    {
                      if (fend - f < 8) break;
                      csize = rd64 (f), f += 8;
                    }
                  if (loff == 0xffffffffu)
                    {
                      if (fend - f < 8) break;
                      loff = rd64 (f), f += 8;
                    }
                  got = TRUE;
                  break;
                }
              xp += 4 + (gsize) len;
            }
          if (!got)
            FAIL (P2P_ERROR_BAD_HEADER, _("The checkpoint's zip entry “%s” lacks its zip64 sizes"), name);
        }
      pos += 46 + (guint64) nlen + xlen + clen;

      if (flags & 1)
        FAIL (P2P_ERROR_UNSUPPORTED, _("The checkpoint's zip entry “%s” is encrypted"), name);
      if (method != 0)
        FAIL (P2P_ERROR_UNSUPPORTED, _("The checkpoint's zip entry “%s” is compressed (method %u); "
                                       "PyTorch stores entries uncompressed: re-save the file with "
                                       "torch.save or unpack and re-zip it with “zip -0”"), name, method);
      if (csize != usize)
        FAIL (P2P_ERROR_BAD_HEADER, _("The checkpoint's zip entry “%s” has inconsistent sizes"), name);
      /* The local header repeats the name and may have its own extra field;
       * the data follows it. */
      if (loff > cd_off || cd_off - loff < 30)
        FAIL (P2P_ERROR_BAD_HEADER, _("The checkpoint's zip entry “%s” points outside the archive"), name);
      if (rd32 (d + loff) != 0x04034b50u)
        FAIL (P2P_ERROR_BAD_HEADER, _("The checkpoint's zip entry “%s” has no local header"), name);
      if (rd16 (d + loff + 8) != 0)
        FAIL (P2P_ERROR_UNSUPPORTED, _("The checkpoint's zip entry “%s” is compressed (method %u); "
                                       "PyTorch stores entries uncompressed: re-save the file with "
                                       "torch.save or unpack and re-zip it with “zip -0”"),
              name, rd16 (d + loff + 8));
      data_off = loff + 30 + rd16 (d + loff + 26) + (guint64) rd16 (d + loff + 28);
      if (rd16 (d + loff + 26) != nlen || data_off > cd_off ||
          memcmp (d + loff + 30, name, nlen) != 0)
        FAIL (P2P_ERROR_BAD_HEADER, _("The checkpoint's zip entry “%s” does not match its local header"), name);
      if (!g_uint64_checked_add (&data_end, data_off, csize) || data_end > cd_off)
        FAIL (P2P_ERROR_TRUNCATED, _("The checkpoint is truncated or damaged: zip entry “%s” "
                                     "(%llu bytes) runs past the data"), name, (unsigned long long) csize);
      if (g_hash_table_contains (r->zip_entries, name))
        FAIL (P2P_ERROR_BAD_HEADER, _("The checkpoint's zip archive holds “%s” twice"), name);
      e = g_new0 (ZipEntry, 1);
      e->name = g_steal_pointer (&name);
      e->data = d + data_off;
      e->size = csize;
      e->crc = rd32 (c + 16);
      g_hash_table_insert (r->zip_entries, e->name, e);
    }
  return TRUE;
}

/* Gives every storage of the zip container its bytes. */
static gboolean
zip_bind_storages (Reader *r, GError **error)
{
  GHashTableIter it;
  gpointer value;

  g_hash_table_iter_init (&it, r->storages);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      Storage *s = value;
      g_autofree char *entry_name = g_strdup_printf ("%s/data/%s", r->zip_prefix, s->key);
      ZipEntry *e = g_hash_table_lookup (r->zip_entries, entry_name);

      if (!e)
        FAIL (P2P_ERROR_TRUNCATED, _("The checkpoint lacks the data of storage “%s” (no entry “%s”)"),
              s->key, entry_name);
      if (e->size != s->numel * st_elem (s->type))   /* product checked at declaration */
        FAIL (P2P_ERROR_BAD_TENSOR, _("Storage “%s” holds %llu bytes but declares %llu %s elements"),
              s->key, (unsigned long long) e->size, (unsigned long long) s->numel,
              st_name (s->type));
      if (!zip_entry_verify (e, error))
        return FALSE;
      s->data = e->data;
    }
  return TRUE;
}

static gboolean
read_zip (Reader *r, const guint8 *d, gsize size, Value **root, Vm *vm, GError **error)
{
  GHashTableIter it;
  gpointer key;
  ZipEntry *pkl = NULL, *e;
  g_autofree char *byteorder_name = NULL;

  if (!zip_read_directory (r, d, size, error))
    return FALSE;
  /* torch.save writes <prefix>/data.pkl; the prefix is "archive" or the
   * file's stem depending on the version. */
  g_hash_table_iter_init (&it, r->zip_entries);
  while (g_hash_table_iter_next (&it, &key, NULL))
    {
      const char *name = key, *slash = strchr (name, '/');
      if (slash && strcmp (slash, "/data.pkl") == 0)
        {
          if (pkl)
            FAIL (P2P_ERROR_BAD_HEADER, _("The checkpoint's zip archive holds more than one data.pkl"));
          pkl = g_hash_table_lookup (r->zip_entries, name);
          r->zip_prefix = g_strndup (name, (gsize) (slash - name));
        }
    }
  if (!pkl)
    FAIL (P2P_ERROR_NOT_A_MODEL, _("The file is a zip archive but not a PyTorch checkpoint (no data.pkl)"));
  byteorder_name = g_strdup_printf ("%s/byteorder", r->zip_prefix);
  e = g_hash_table_lookup (r->zip_entries, byteorder_name);
  if (e && !(e->size == 6 && memcmp (e->data, "little", 6) == 0))
    FAIL (P2P_ERROR_UNSUPPORTED, _("The checkpoint was saved on a big-endian machine, which is not supported"));
  if (!zip_entry_verify (pkl, error))
    return FALSE;

  vm->start = vm->p = pkl->data;
  vm->end = pkl->data + pkl->size;
  vm->persid_ok = TRUE;
  if (!vm_run (vm, root))
    return FALSE;
  return zip_bind_storages (r, error);
}

/* ---- legacy container ----------------------------------------------------- */

static gboolean
read_legacy (Reader *r, const guint8 *d, gsize size, Value **root, Vm *vm, GError **error)
{
  Value *v, *keys;
  const guint8 *p;

  /* 1. magic number */
  if (!vm_run (vm, &v))
    return FALSE;
  if (v->kind != V_BIGINT || v->u.str.len != sizeof legacy_magic ||
      memcmp (v->u.str.s, legacy_magic, sizeof legacy_magic) != 0)
    FAIL (P2P_ERROR_NOT_A_MODEL, _("The file is a Python pickle but not a PyTorch checkpoint "
                                   "(no torch.save magic number)"));
  /* 2. protocol version */
  vm_reset (vm);
  if (!vm_run (vm, &v))
    return FALSE;
  if (v->kind != V_INT || v->u.i != 1001)
    FAIL (P2P_ERROR_UNSUPPORTED, _("The checkpoint uses torch.save protocol %lld "
                                   "(1001 is supported)"),
          (long long) (v->kind == V_INT ? v->u.i : (gint64) -1));
  /* 3. sys_info: only byte order matters */
  vm_reset (vm);
  if (!vm_run (vm, &v))
    return FALSE;
  if (v->kind != V_DICT)
    FAIL (P2P_ERROR_BAD_HEADER, _("The checkpoint's system information is not a dict"));
  for (guint i = 0; i + 1 < v->u.items->len; i += 2)
    if (is_str (v->u.items->pdata[i], "little_endian"))
      {
        const Value *le = v->u.items->pdata[i + 1];
        if (le->kind != V_BOOL || !le->u.b)
          FAIL (P2P_ERROR_UNSUPPORTED, _("The checkpoint was saved on a big-endian machine, which is "
                                         "not supported"));
      }
  /* 4. the object */
  vm_reset (vm);
  vm->persid_ok = TRUE;
  if (!vm_run (vm, root))
    return FALSE;
  vm->persid_ok = FALSE;
  /* 5. storage keys, then each storage: int64 element count + elements */
  vm_reset (vm);
  if (!vm_run (vm, &keys))
    return FALSE;
  if (keys->kind != V_LIST)
    FAIL (P2P_ERROR_BAD_HEADER, _("The checkpoint's storage list is not a list"));
  if (keys->u.items->len != g_hash_table_size (r->storages))
    FAIL (P2P_ERROR_BAD_HEADER, _("The checkpoint lists %u storages but its tensors use %u"),
          keys->u.items->len, g_hash_table_size (r->storages));
  p = vm->p;
  for (guint i = 0; i < keys->u.items->len; i++)
    {
      const Value *k = keys->u.items->pdata[i];
      Storage *s;
      guint64 count, nbytes;

      if (k->kind != V_STR || !(s = g_hash_table_lookup (r->storages, k->u.str.s)))
        FAIL (P2P_ERROR_BAD_HEADER, _("The checkpoint lists a storage that no tensor uses"));
      if (s->data)
        FAIL (P2P_ERROR_BAD_HEADER, _("The checkpoint lists storage “%s” twice"), s->key);
      if ((gsize) (d + size - p) < 8)
        FAIL (P2P_ERROR_TRUNCATED, _("The checkpoint is truncated (storage “%s” is missing)"), s->key);
      count = rd64 (p);
      p += 8;
      if (count != s->numel)
        FAIL (P2P_ERROR_BAD_TENSOR, _("Storage “%s” holds %llu elements but declares %llu"),
              s->key, (unsigned long long) count, (unsigned long long) s->numel);
      nbytes = s->numel * st_elem (s->type);   /* checked at declaration */
      if ((guint64) (d + size - p) < nbytes)
        FAIL (P2P_ERROR_TRUNCATED, _("The checkpoint is truncated: storage “%s” needs %llu bytes, "
                                     "%llu are left"), s->key, (unsigned long long) nbytes,
              (unsigned long long) (d + size - p));
      s->data = p;
      p += nbytes;
    }
  return TRUE;
}

/* ---- state_dict to model ---------------------------------------------------- */

typedef struct {
  char   *name;        /* cleaned key */
  Tensor *t;
} Item;

static void
item_free (gpointer p)
{
  Item *it = p;
  g_free (it->name);
  g_free (it);
}

static const Tensor *
find (GHashTable *by_name, const char *name)
{
  Item *it = g_hash_table_lookup (by_name, name);
  return it ? it->t : NULL;
}

typedef struct {
  const P2pArchSpec *arch;
  P2pArchDetected    d;
} Detected;

/* Asks each architecture in turn whether the keys are its own. */
static gboolean
detect (GHashTable *by_name, Detected *det, GError **error)
{
  memset (det, 0, sizeof *det);
  for (int i = 0; p2p_arch_specs[i]; i++)
    switch (p2p_arch_specs[i]->pth_detect (by_name, &det->d, error))
      {
      case P2P_ARCH_DETECT_YES:
        det->arch = p2p_arch_specs[i];
        return TRUE;
      case P2P_ARCH_DETECT_FAILED:
        return FALSE;
      case P2P_ARCH_DETECT_NO:
        break;
      }
  {
    g_autoptr(GList) keys = g_list_sort (g_hash_table_get_keys (by_name), (GCompareFunc) strcmp);
    GString *sample = g_string_new (NULL);
    int i = 0;
    for (GList *l = keys; l && i < 3; l = l->next, i++)
      g_string_append_printf (sample, "%s%s", i ? ", " : "", (const char *) l->data);
    g_set_error (error, P2P_ERROR, P2P_ERROR_UNSUPPORTED,
                 _("The checkpoint is not a pix2pix/CycleGAN generator: it has neither U-Net "
                   "(model.model.0.weight) nor ResNet (model.1.weight 7×7) keys; first keys: %s"),
                 sample->len ? sample->str : _("none"));
    g_string_free (sample, TRUE);
    return FALSE;
  }
}

/* ---- element conversion ---------------------------------------------------- */

static float
f16_to_f32 (guint16 h)
{
  const int e = (h >> 10) & 0x1f, m = h & 0x3ff;
  const float sign = (h & 0x8000) ? -1.0f : 1.0f;

  if (e == 0)
    return sign * ldexpf ((float) m, -24);
  if (e == 31)
    return m ? NAN : sign * INFINITY;
  return sign * ldexpf ((float) (m | 0x400), e - 25);
}

/* Round to nearest even; values beyond the half range become infinity
 * (refused later as non-finite). */
static guint16
f32_to_f16 (float f)
{
  guint32 x;
  guint32 sign, mant;
  int exp;

  memcpy (&x, &f, 4);
  sign = (x >> 16) & 0x8000;
  exp = (int) ((x >> 23) & 0xff) - 127 + 15;
  mant = x & 0x7fffff;
  if (((x >> 23) & 0xff) == 0xff)
    return (guint16) (sign | 0x7c00 | (mant ? 0x200 : 0));
  if (exp >= 31)
    return (guint16) (sign | 0x7c00);
  if (exp <= 0)
    {
      /* subnormal half (or zero) */
      guint32 m, shift, half_bit, rest;
      if (exp < -10)
        return (guint16) sign;
      m = mant | 0x800000;
      shift = (guint32) (14 - exp);
      half_bit = 1u << (shift - 1);
      rest = m & ((1u << shift) - 1);
      m >>= shift;
      if (rest > half_bit || (rest == half_bit && (m & 1)))
        m++;
      return (guint16) (sign | m);
    }
  {
    guint32 h = sign | (guint32) exp << 10 | mant >> 13;
    guint32 rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest == 0x1000 && (h & 1)))
      h++;   /* may carry into the exponent: correct rounding up to inf */
    return (guint16) h;
  }
}

static guint16
f32_to_bf16 (float f)
{
  guint32 x;

  memcpy (&x, &f, 4);
  if ((x & 0x7fffffff) > 0x7f800000)
    return (guint16) ((x >> 16) | 0x40);   /* quiet NaN */
  x += 0x7fff + ((x >> 16) & 1);
  return (guint16) (x >> 16);
}

static double
read_elem (StorageType t, const guint8 *p)
{
  switch (t)
    {
    case ST_F32:
      {
        guint32 b = rd32 (p);
        float f;
        memcpy (&f, &b, 4);
        return f;
      }
    case ST_F16:
      return f16_to_f32 (rd16 (p));
    case ST_BF16:
      {
        guint32 b = (guint32) rd16 (p) << 16;
        float f;
        memcpy (&f, &b, 4);
        return f;
      }
    case ST_F64:
      {
        guint64 b = rd64 (p);
        double x;
        memcpy (&x, &b, 8);
        return x;
      }
    default:
      return NAN;
    }
}

typedef enum { OUT_F32, OUT_F16, OUT_BF16 } OutType;

static void
write_elem (OutType t, guint8 *p, double v)
{
  const float f = (float) v;
  guint32 b;
  guint16 h;

  switch (t)
    {
    case OUT_F32:
      memcpy (&b, &f, 4);
      p[0] = (guint8) b, p[1] = (guint8) (b >> 8), p[2] = (guint8) (b >> 16), p[3] = (guint8) (b >> 24);
      break;
    case OUT_F16:
    case OUT_BF16:
      h = t == OUT_F16 ? f32_to_f16 (f) : f32_to_bf16 (f);
      p[0] = (guint8) h, p[1] = (guint8) (h >> 8);
      break;
    }
}

/* ---- building the safetensors image ----------------------------------------- */

static char *
default_name (const char *file_name)
{
  g_autofree char *base = NULL, *dir = NULL, *dirbase = NULL;
  char *dot;

  if (!file_name || !*file_name)
    return g_strdup (_("Imported model"));
  base = g_path_get_basename (file_name);
  if ((dot = strrchr (base, '.')) && dot != base)
    *dot = '\0';
  /* latest_net_G.pth says nothing; the folder (edges2shoes_pretrained)
   * usually names the model. */
  dir = g_path_get_dirname (file_name);
  dirbase = g_path_get_basename (dir);
  if (strstr (base, "_net_") && strcmp (dirbase, ".") != 0 && strcmp (dirbase, G_DIR_SEPARATOR_S) != 0)
    return g_strdup_printf ("%s (%s)", dirbase, base);
  return g_steal_pointer (&base);
}

static gboolean
legacy_instance_buffer (GHashTable *by_name, const char *key)
{
  g_autofree char *mod = NULL, *wname = NULL;
  const char *dot;
  const Tensor *w;

  if (!g_str_has_suffix (key, ".running_mean") && !g_str_has_suffix (key, ".running_var"))
    return FALSE;
  dot = strrchr (key, '.');
  mod = g_strndup (key, (gsize) (dot - key));
  wname = g_strconcat (mod, ".weight", NULL);
  w = find (by_name, wname);
  /* BatchNorm is affine in the reference nets (1-D weight); InstanceNorm is
   * not, so running buffers without a 1-D weight are legacy leftovers. */
  return !(w && w->ndim == 1);
}

/* Orders tensors by storage, then by offset (empty tensors first). */
static int
compare_item_place (gconstpointer pa, gconstpointer pb)
{
  const Item *a = *(Item *const *) pa, *b = *(Item *const *) pb;

  if (a->t->storage != b->t->storage)
    return strcmp (a->t->storage->key, b->t->storage->key);
  if (a->t->offset != b->t->offset)
    return a->t->offset < b->t->offset ? -1 : 1;
  return a->t->numel < b->t->numel ? -1 : a->t->numel > b->t->numel;
}

static GBytes *
build_safetensors (Value *root, const char *file_name, Container container,
                   const P2pImportOptions *opts, GError **error)
{
  GPtrArray *pairs;
  g_autoptr(GHashTable) by_name = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, item_free);
  g_autoptr(GPtrArray) order = g_ptr_array_new ();
  g_autoptr(JsonBuilder) jb = json_builder_new ();
  g_autoptr(JsonGenerator) gen = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *json = NULL, *name = NULL;
  gsize json_len, header_len, total;
  guint64 data_size = 0;
  Detected det;
  P2pTask task;
  int native, mult;
  OutType *out_types;
  guint8 *buf;
  gboolean dropout;
  char num[32];

  if (root->kind != V_DICT)
    FAILN (P2P_ERROR_UNSUPPORTED, _("The checkpoint holds a %s, not a state_dict (a dict of tensors)"),
           kind_name (root->kind));
  pairs = root->u.items;
  /* {'state_dict': {...}, ...} wrappers of other training scripts. */
  for (guint i = 0; i + 1 < pairs->len; i += 2)
    if (is_str (pairs->pdata[i], "state_dict") && ((Value *) pairs->pdata[i + 1])->kind == V_DICT)
      {
        pairs = ((Value *) pairs->pdata[i + 1])->u.items;
        break;
      }
  if (pairs->len == 0)
    FAILN (P2P_ERROR_UNSUPPORTED, _("The checkpoint's state_dict is empty"));

  for (guint i = 0; i + 1 < pairs->len; i += 2)
    {
      const Value *k = pairs->pdata[i], *v = pairs->pdata[i + 1];
      const char *key;
      Item *it;

      if (k->kind != V_STR || v->kind != V_TENSOR)
        {
          g_autofree char *what = k->kind == V_STR ? g_strescape (k->u.str.s, NULL) : g_strdup (kind_name (k->kind));
          FAILN (P2P_ERROR_UNSUPPORTED, _("The checkpoint is not a bare state_dict (entry “%s” is not a "
                                          "tensor but a value of type %s)"), what, kind_name (v->kind));
        }
      key = k->u.str.s;
      if (g_str_has_prefix (key, "module."))
        key += strlen ("module.");
      if (g_hash_table_contains (by_name, key))
        FAILN (P2P_ERROR_BAD_HEADER, _("The checkpoint holds tensor “%s” twice"), key);
      if (g_hash_table_size (by_name) >= MAX_TENSORS)
        FAILN (P2P_ERROR_UNSUPPORTED, _("The checkpoint has more than %d tensors: not a generator"),
               MAX_TENSORS);
      it = g_new0 (Item, 1);
      it->name = g_strdup (key);
      it->t = v->u.tensor;
      g_hash_table_insert (by_name, it->name, it);
      g_ptr_array_add (order, it);
    }

  /* What the reference loader drops. */
  for (guint i = 0; i < order->len;)
    {
      Item *it = order->pdata[i];
      if (g_str_has_suffix (it->name, ".num_batches_tracked") || legacy_instance_buffer (by_name, it->name))
        g_ptr_array_remove_index (order, i);
      else
        i++;
    }
  for (guint i = 0; i < order->len; i++)
    {
      Item *it = order->pdata[i];
      StorageType st = it->t->storage->type;
      if (st != ST_F32 && st != ST_F16 && st != ST_BF16 && st != ST_F64)
        /* TRANSLATORS: the second %s is a PyTorch element type such as
         * int64 or uint8. */
        FAILN (P2P_ERROR_BAD_TENSOR, _("Tensor “%s” holds %s values; the weights of a generator are "
                                       "floating point"), it->name, st_name (st));
    }
  /* Tensors of a state_dict do not share storage.  Views of one storage
   * under many names would make the converted file arbitrarily larger than
   * the checkpoint: overlaps are refused before anything is allocated. */
  {
    g_autoptr(GPtrArray) sorted = g_ptr_array_copy (order, NULL, NULL);
    g_ptr_array_sort (sorted, compare_item_place);
    for (guint i = 1; i < sorted->len; i++)
      {
        const Item *a = sorted->pdata[i - 1], *b = sorted->pdata[i];
        if (a->t->storage == b->t->storage && b->t->numel > 0 &&
            a->t->offset + a->t->numel > b->t->offset)
          FAILN (P2P_ERROR_BAD_TENSOR, _("Tensors “%s” and “%s” of the checkpoint share storage, "
                                         "which a state_dict never does"), a->name, b->name);
      }
  }
  /* Detection looks at the kept tensors only. */
  {
    g_autoptr(GHashTable) kept = g_hash_table_new (g_str_hash, g_str_equal);
    g_autofree P2pKeyShape *shapes = g_new (P2pKeyShape, order->len);
    for (guint i = 0; i < order->len; i++)
      {
        Item *it = order->pdata[i];
        shapes[i].ndim = it->t->ndim;
        shapes[i].shape = it->t->shape;
        g_hash_table_insert (kept, it->name, &shapes[i]);
      }
    if (!detect (kept, &det, error))
      return NULL;
  }

  if (det.d.ngf < 1 || det.d.ngf > 1024)
    FAILN (P2P_ERROR_UNSUPPORTED, _("The checkpoint's generator has ngf %d (1 to 1024 are supported)"), det.d.ngf);
  if (det.d.input_nc < 1 || det.d.input_nc > 4 || det.d.output_nc < 1 || det.d.output_nc > 4)
    FAILN (P2P_ERROR_UNSUPPORTED, _("The checkpoint's generator maps %d to %d channels (1 to 4 are "
                                    "supported)"), det.d.input_nc, det.d.output_nc);
  if (!det.arch->dropout_from_keys)
    dropout = opts->dropout >= 0 ? opts->dropout != 0 : det.d.norm == P2P_NORM_BATCH;
  else
    {
      if (opts->dropout >= 0 && (opts->dropout != 0) != det.d.dropout)
        {
          if (det.d.dropout)
            FAILN (P2P_ERROR_BAD_INPUT, _("The dropout option contradicts the checkpoint: this ResNet "
                                          "has dropout layers"));
          FAILN (P2P_ERROR_BAD_INPUT, _("The dropout option contradicts the checkpoint: this ResNet "
                                        "has no dropout layers"));
        }
      dropout = det.d.dropout;
    }
  if (opts->task < 0)
    task = det.d.input_nc == 1 && det.d.output_nc == 2 ? P2P_TASK_COLORIZE : P2P_TASK_GENERIC;
  else
    task = (P2pTask) opts->task;
  if (task == P2P_TASK_COLORIZE)
    {
      if (det.d.input_nc != 1 || det.d.output_nc != 2)
        FAILN (P2P_ERROR_BAD_INPUT, _("Task colorize needs a generator from 1 channel (L) to 2 (a, b); "
                                      "this one maps %d to %d"), det.d.input_nc, det.d.output_nc);
    }
  else if ((det.d.input_nc != 1 && det.d.input_nc != 3) || (det.d.output_nc != 1 && det.d.output_nc != 3))
    FAILN (P2P_ERROR_UNSUPPORTED, _("An RGB task needs 1 or 3 channels on each side; this generator "
                                    "maps %d to %d"), det.d.input_nc, det.d.output_nc);
  mult = det.arch->size_multiple (det.d.depth);
  native = opts->native_size > 0 ? opts->native_size : det.arch->default_native_size (det.d.depth);
  if (native % mult != 0 || native > 65536)
    FAILN (P2P_ERROR_BAD_INPUT, _("Native size %d is not a multiple of %d up to 65536"), native, mult);

  /* Header. */
  out_types = g_new (OutType, order->len);
  json_builder_begin_object (jb);
  json_builder_set_member_name (jb, "__metadata__");
  json_builder_begin_object (jb);
#define META(k, v) G_STMT_START { json_builder_set_member_name (jb, k); \
    json_builder_add_string_value (jb, v); } G_STMT_END
  META ("format", "gimp-pix2pix");
  META ("format_version", "1");
  p2p_arch_format_name (det.arch, det.d.depth, num, sizeof num);
  META ("arch", num);
  g_snprintf (num, sizeof num, "%d", det.d.ngf);
  META ("ngf", num);
  g_snprintf (num, sizeof num, "%d", det.d.input_nc);
  META ("input_nc", num);
  g_snprintf (num, sizeof num, "%d", det.d.output_nc);
  META ("output_nc", num);
  META ("norm", p2p_norm_to_string (det.d.norm));
  META ("dropout", dropout ? "true" : "false");
  META ("task", p2p_task_to_string (task));
  META ("input_space", task == P2P_TASK_COLORIZE ? "lab_l" : "rgb");
  META ("output_space", task == P2P_TASK_COLORIZE ? "lab_ab" : "rgb");
  g_snprintf (num, sizeof num, "%d", native);
  META ("native_size", num);
  name = opts->name ? g_strdup (opts->name) : default_name (file_name);
  if (!g_utf8_validate (name, -1, NULL))
    {
      g_free (out_types);
      FAILN (P2P_ERROR_BAD_INPUT, _("The model name is not valid UTF-8"));
    }
  META ("name", name);
  META ("license", opts->license ? opts->license : "unknown (see the model's source)");
  if (opts->description)
    META ("description", opts->description);
  if (opts->source)
    META ("source", opts->source);
  META ("imported_from", container == CONTAINER_ZIP ? "PyTorch checkpoint (zip format)"
                                               : "PyTorch checkpoint (legacy format)");
#undef META
  json_builder_end_object (jb);

  for (guint i = 0; i < order->len; i++)
    {
      Item *it = order->pdata[i];
      const Tensor *t = it->t;
      gsize elem;

      switch (opts->dtype)
        {
        case P2P_IMPORT_DTYPE_F16: out_types[i] = OUT_F16; break;
        case P2P_IMPORT_DTYPE_BF16: out_types[i] = OUT_BF16; break;
        case P2P_IMPORT_DTYPE_F32: out_types[i] = OUT_F32; break;
        case P2P_IMPORT_DTYPE_KEEP:
        default:
          out_types[i] = t->storage->type == ST_F16 ? OUT_F16 : t->storage->type == ST_BF16 ? OUT_BF16 : OUT_F32;
          break;
        }
      elem = out_types[i] == OUT_F32 ? 4 : 2;
      json_builder_set_member_name (jb, it->name);
      json_builder_begin_object (jb);
      json_builder_set_member_name (jb, "dtype");
      json_builder_add_string_value (jb, out_types[i] == OUT_F32 ? "F32" : out_types[i] == OUT_F16 ? "F16" : "BF16");
      json_builder_set_member_name (jb, "shape");
      json_builder_begin_array (jb);
      for (int d = 0; d < t->ndim; d++)
        json_builder_add_int_value (jb, t->shape[d]);
      json_builder_end_array (jb);
      json_builder_set_member_name (jb, "data_offsets");
      json_builder_begin_array (jb);
      json_builder_add_int_value (jb, (gint64) data_size);
      /* numel <= storage numel, whose byte size fits in gsize */
      data_size += t->numel * elem;
      json_builder_add_int_value (jb, (gint64) data_size);
      json_builder_end_array (jb);
      json_builder_end_object (jb);
    }
  json_builder_end_object (jb);

  gen = json_generator_new ();
  node = json_builder_get_root (jb);
  json_generator_set_root (gen, node);
  json = json_generator_to_data (gen, &json_len);
  /* Data aligned to 8 bytes, as safetensors writers do: F32 weights are
   * then used in place. */
  header_len = (json_len + 7) & ~(gsize) 7;
  if (header_len > MAX_HEADER_JSON || data_size > G_MAXSIZE - 8 - header_len)
    {
      g_free (out_types);
      FAILN (P2P_ERROR_NO_MEMORY, _("The checkpoint is too large to convert"));
    }
  total = 8 + header_len + (gsize) data_size;
  buf = g_try_malloc (total);
  if (!buf)
    {
      g_free (out_types);
      FAILN (P2P_ERROR_NO_MEMORY, _("Not enough memory to convert the checkpoint (%llu bytes)"),
             (unsigned long long) total);
    }
  for (int i = 0; i < 8; i++)
    buf[i] = (guint8) ((guint64) header_len >> (8 * i));
  memcpy (buf + 8, json, json_len);
  memset (buf + 8 + json_len, ' ', header_len - json_len);

  {
    guint8 *dst = buf + 8 + header_len;
    for (guint i = 0; i < order->len; i++)
      {
        Item *it = order->pdata[i];
        const Tensor *t = it->t;
        const StorageType st = t->storage->type;
        const gsize in_elem = st_elem (st), out_elem = out_types[i] == OUT_F32 ? 4 : 2;
        const guint8 *src = t->storage->data + t->offset * in_elem;

        if (st == ST_F32 && out_types[i] == OUT_F32)
          {
            /* The common case: a copy, and a finiteness check on the bits. */
            const gsize nbytes = (gsize) t->numel * 4;
            for (gsize j = 0; j < nbytes; j += 4)
              if ((rd32 (src + j) & 0x7f800000u) == 0x7f800000u)
                {
                  g_free (buf);
                  g_free (out_types);
                  FAILN (P2P_ERROR_BAD_TENSOR, _("Tensor “%s” contains NaN or infinity"), it->name);
                }
            memcpy (dst, src, nbytes);
            dst += nbytes;
            continue;
          }
        for (guint64 j = 0; j < t->numel; j++)
          {
            const double v = read_elem (st, src + j * in_elem);
            if (!isfinite (v))
              {
                g_free (buf);
                g_free (out_types);
                FAILN (P2P_ERROR_BAD_TENSOR, _("Tensor “%s” contains NaN or infinity"), it->name);
              }
            write_elem (out_types[i], dst, v);
            if (out_types[i] != OUT_F32 && !isfinite (read_elem (out_types[i] == OUT_F16 ? ST_F16 : ST_BF16, dst)))
              {
                g_free (buf);
                g_free (out_types);
                FAILN (P2P_ERROR_BAD_TENSOR, _("Tensor “%s” has values too large for %s"), it->name,
                       out_types[i] == OUT_F16 ? "F16" : "BF16");
              }
            dst += out_elem;
          }
      }
  }
  g_free (out_types);
  return g_bytes_new_take (buf, total);
}

/* ---- entry points ---------------------------------------------------------- */

gboolean
p2p_pth_sniff (const guint8 *data, gsize size)
{
  if (size >= 4 && memcmp (data, "PK\x03\x04", 4) == 0)
    return TRUE;
  /* Also empty archives: PK\x05\x06. */
  if (size >= 4 && memcmp (data, "PK\x05\x06", 4) == 0)
    return TRUE;
  /* A pickle starts with PROTO n.  A safetensors file whose header length
   * begins with the same two bytes has '{' at byte 8. */
  if (size >= 2 && data[0] == 0x80 && data[1] >= 2 && data[1] <= 5)
    return !(size > 8 && data[8] == '{');
  return FALSE;
}

void
p2p_import_options_init (P2pImportOptions *opts)
{
  g_return_if_fail (opts != NULL);
  memset (opts, 0, sizeof *opts);
  opts->task = -1;
  opts->dropout = -1;
  opts->dtype = P2P_IMPORT_DTYPE_KEEP;
}

GBytes *
p2p_pth_to_safetensors (const guint8 *data, gsize size, const char *file_name,
                        const P2pImportOptions *opts, GError **error)
{
  Reader r = { 0 };
  g_autoptr(Vm) vm = NULL;
  P2pImportOptions defaults;
  Value *root = NULL;
  gboolean ok;
  GBytes *out = NULL;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  if (!opts)
    {
      p2p_import_options_init (&defaults);
      opts = &defaults;
    }
  if (opts->task >= 3 || opts->dropout > 1)
    FAILN (P2P_ERROR_BAD_INPUT, _("Invalid import options"));

  r.storages = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, storage_free);
  r.zip_entries = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, zip_entry_free);
  r.error = error;
  vm = vm_init (&r, data, size, error);

  if (size >= 4 && (memcmp (data, "PK\x03\x04", 4) == 0 || memcmp (data, "PK\x05\x06", 4) == 0))
    {
      r.container = CONTAINER_ZIP;
      ok = read_zip (&r, data, size, &root, vm, error);
    }
  else if (size >= 2 && data[0] == 0x80)
    {
      r.container = CONTAINER_LEGACY;
      ok = read_legacy (&r, data, size, &root, vm, error);
    }
  else
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_NOT_A_MODEL,
                   _("The file is not a PyTorch checkpoint (neither a zip archive nor a pickle)"));
      ok = FALSE;
    }
  if (ok)
    out = build_safetensors (root, file_name, r.container, opts, error);

  g_clear_pointer (&vm, vm_free);   /* values point into r.storages */
  g_hash_table_unref (r.storages);
  g_hash_table_unref (r.zip_entries);
  g_free (r.zip_prefix);
  return out;
}
