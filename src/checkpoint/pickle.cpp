// The allow-listed pickle machine: see pickle.h. Opcode meanings are Python's
// (Lib/pickletools.py documents each); only those torch.save and plain state dicts
// produce are implemented, everything else is "unsupported opcode".
#include "checkpoint/pickle.h"

#include <cstring>
#include <unordered_map>

#include "tinygptv/error.h"
#include "tinygptv/json.h"

namespace tgv {

namespace {

using Kind = PyObject::Kind;

constexpr size_t kMaxObjects = size_t{1} << 26;  // far above any real state dict (a few thousand tensors)
constexpr size_t kMaxDims = 16;

struct StorageType {
  const char* global;
  const char* dtype;
  size_t size;
};
constexpr StorageType kStorageTypes[] = {
    {"torch.FloatStorage", "F32", 4}, {"torch.HalfStorage", "F16", 2},  {"torch.BFloat16Storage", "BF16", 2},
    {"torch.DoubleStorage", "F64", 8}, {"torch.LongStorage", "I64", 8}, {"torch.IntStorage", "I32", 4},
    {"torch.ShortStorage", "I16", 2},  {"torch.CharStorage", "I8", 1},  {"torch.ByteStorage", "U8", 1},
    {"torch.BoolStorage", "BOOL", 1},
};

const StorageType* storage_type(const std::string& global) {
  for (const auto& t : kStorageTypes)
    if (global == t.global) return &t;
  return nullptr;
}

bool global_allowed(const std::string& name) {
  return name == "collections.OrderedDict" || name == "torch._utils._rebuild_tensor_v2" ||
         name == "torch._utils._rebuild_tensor" || name == "torch._utils._rebuild_parameter" ||
         name == "torch._utils._rebuild_parameter_with_state" || storage_type(name) != nullptr;
}

class Machine {
 public:
  Machine(const uint8_t* data, size_t size) : p_(data), begin_(data), end_(data + size) {}

  Pickle run();

 private:
  [[noreturn]] void bad(const std::string& msg) const {
    fail("pickle: " + msg + " at byte " + std::to_string(op_pos_));
  }
  const uint8_t* take(uint64_t n) {
    if (static_cast<uint64_t>(end_ - p_) < n) fail("pickle: truncated at byte " + std::to_string(p_ - begin_) + " (wanted " + std::to_string(n) + " more bytes)");
    const uint8_t* q = p_;
    p_ += n;
    return q;
  }
  uint64_t le(int n) {
    const uint8_t* q = take(static_cast<uint64_t>(n));
    uint64_t v = 0;
    for (int k = n - 1; k >= 0; k--) v = (v << 8) | q[k];
    return v;
  }
  std::string line() {  // GLOBAL's text arguments, each ended by '\n'
    const uint8_t* nl = static_cast<const uint8_t*>(std::memchr(p_, '\n', static_cast<size_t>(end_ - p_)));
    if (!nl) bad("unterminated GLOBAL name");
    std::string s(reinterpret_cast<const char*>(p_), static_cast<size_t>(nl - p_));
    p_ = nl + 1;
    return s;
  }

  uint32_t make(PyObject o) {
    if (objs_.size() >= kMaxObjects) bad("too many objects");
    objs_.push_back(std::move(o));
    return static_cast<uint32_t>(objs_.size() - 1);
  }
  uint32_t make_kind(Kind k) { PyObject o; o.kind = k; return make(std::move(o)); }
  void push(uint32_t i) { stack_.push_back(i); }
  uint32_t pop() {
    if (stack_.size() <= floor()) bad("stack underflow");
    const uint32_t v = stack_.back();
    stack_.pop_back();
    return v;
  }
  uint32_t top() {
    if (stack_.size() <= floor()) bad("stack underflow");
    return stack_.back();
  }
  size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  std::vector<uint32_t> pop_mark() {  // everything above the last MARK, and the MARK
    if (marks_.empty()) bad("no MARK on the stack");
    const size_t m = marks_.back();
    marks_.pop_back();
    std::vector<uint32_t> items(stack_.begin() + static_cast<ptrdiff_t>(m), stack_.end());
    stack_.resize(m);
    return items;
  }
  uint32_t make_str(Kind k, const uint8_t* q, uint64_t n) {
    PyObject o;
    o.kind = k;
    o.s.assign(reinterpret_cast<const char*>(q), static_cast<size_t>(n));
    if (k == Kind::Str && !utf8_valid(o.s)) bad("string is not valid UTF-8");
    return make(std::move(o));
  }
  uint32_t make_int(int64_t v) { PyObject o; o.kind = Kind::Int; o.i = v; return make(std::move(o)); }
  uint32_t make_seq(Kind k, std::vector<uint32_t> items) { PyObject o; o.kind = k; o.items = std::move(items); return make(std::move(o)); }

  void memo_put(uint64_t key) {
    if (memo_.size() >= kMaxObjects) bad("memo too large");
    memo_[key] = top();
  }
  void memo_get(uint64_t key) {
    auto it = memo_.find(key);
    if (it == memo_.end()) bad("memo key " + std::to_string(key) + " was never stored");
    push(it->second);
  }

  PyObject& obj(uint32_t i) { return objs_[i]; }
  const PyObject& tuple_arg(const PyObject& args, size_t k, Kind want, const char* what) {
    if (args.items.size() <= k) bad(std::string(what) + ": too few arguments");
    const PyObject& a = objs_[args.items[k]];
    if (a.kind != want) bad(std::string(what) + ": argument " + std::to_string(k) + " has the wrong type");
    return a;
  }
  std::vector<int64_t> int_tuple(uint32_t i, const char* what) {
    const PyObject& t = objs_[i];
    if (t.kind != Kind::Tuple && t.kind != Kind::List) bad(std::string(what) + " is not a tuple");
    if (t.items.size() > kMaxDims) bad(std::string(what) + " has too many dimensions");
    std::vector<int64_t> v;
    for (uint32_t e : t.items) {
      if (objs_[e].kind != Kind::Int || objs_[e].i < 0) bad(std::string(what) + " holds a non-integer or negative value");
      v.push_back(objs_[e].i);
    }
    return v;
  }
  uint32_t reduce(uint32_t callable, uint32_t args);
  uint32_t persistent_load(uint32_t pid);

  const uint8_t* p_;
  const uint8_t* begin_;
  const uint8_t* end_;
  size_t op_pos_ = 0;
  std::vector<PyObject> objs_;
  std::vector<uint32_t> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, uint32_t> memo_;
};

uint32_t Machine::persistent_load(uint32_t pid) {
  // torch.serialization: ('storage', storage_type, key, location, numel)
  const PyObject& t = objs_[pid];
  if (t.kind != Kind::Tuple || t.items.size() != 5) bad("persistent id is not a 5-tuple ('storage', type, key, location, numel)");
  const PyObject& tag = tuple_arg(t, 0, Kind::Str, "persistent id");
  if (tag.s != "storage") bad("persistent id of unknown kind '" + tag.s + "'");
  const PyObject& type = tuple_arg(t, 1, Kind::Global, "persistent id");
  const StorageType* st = storage_type(type.s);
  if (!st) bad("'" + type.s + "' is not a storage type");
  const PyObject& key = tuple_arg(t, 2, Kind::Str, "persistent id");
  const PyObject& numel = tuple_arg(t, 4, Kind::Int, "persistent id");
  if (numel.i < 0) bad("negative storage size");
  if (key.s.empty() || key.s.size() > 64 || key.s.find_first_of("/\\") != std::string::npos) bad("bad storage key");
  PyObject o;
  o.kind = Kind::Storage;
  o.s = key.s;
  o.dtype = st->dtype;
  o.i = numel.i;
  return make(std::move(o));
}

uint32_t Machine::reduce(uint32_t callable, uint32_t args_index) {
  const PyObject& fn = objs_[callable];
  if (fn.kind != Kind::Global) bad("REDUCE of something that is not a global");
  const PyObject args = objs_[args_index];  // a copy: make() below may move the arena
  if (args.kind != Kind::Tuple) bad("REDUCE arguments are not a tuple");
  const std::string name = fn.s;
  if (name == "collections.OrderedDict") {
    if (!args.items.empty()) bad("OrderedDict built from arguments is not supported");
    return make_kind(Kind::Dict);
  }
  if (name == "torch._utils._rebuild_tensor_v2" || name == "torch._utils._rebuild_tensor") {
    if (args.items.size() < 4) bad(name + ": too few arguments");
    if (objs_[args.items[0]].kind != Kind::Storage) bad(name + ": argument 0 is not a storage");
    if (objs_[args.items[1]].kind != Kind::Int || objs_[args.items[1]].i < 0) bad(name + ": bad storage offset");
    PyObject t;
    t.kind = Kind::Tensor;
    t.storage = args.items[0];
    t.offset = objs_[args.items[1]].i;
    t.shape = int_tuple(args.items[2], "tensor size");
    t.stride = int_tuple(args.items[3], "tensor stride");
    if (t.shape.size() != t.stride.size()) bad(name + ": size and stride differ in length");
    return make(std::move(t));
  }
  if (name == "torch._utils._rebuild_parameter" || name == "torch._utils._rebuild_parameter_with_state") {
    if (args.items.empty() || objs_[args.items[0]].kind != Kind::Tensor) bad(name + ": argument 0 is not a tensor");
    return args.items[0];
  }
  bad("global '" + name + "' cannot be called");
}

Pickle Machine::run() {
  while (true) {
    op_pos_ = static_cast<size_t>(p_ - begin_);
    const uint8_t op = *take(1);
    switch (op) {
      case 0x80: {  // PROTO
        const uint8_t v = *take(1);
        if (v > 5) bad("protocol " + std::to_string(v) + " is newer than 5");
        break;
      }
      case 0x95:  // FRAME: a length hint only
        if (le(8) > static_cast<uint64_t>(end_ - p_)) bad("FRAME longer than the data");
        break;
      case '.': {  // STOP
        Pickle out;
        out.root = pop();
        out.objects = std::move(objs_);
        return out;
      }
      case '(': marks_.push_back(stack_.size()); break;                      // MARK
      case '0': pop(); break;                                                // POP
      case '1': pop_mark(); break;                                           // POP_MARK
      case '2': push(top()); break;                                          // DUP
      case 'N': push(make_kind(Kind::None)); break;                          // NONE
      case 0x88: case 0x89: {                                                // NEWTRUE / NEWFALSE
        PyObject o; o.kind = Kind::Bool; o.b = op == 0x88; push(make(std::move(o)));
        break;
      }
      case 'J': push(make_int(static_cast<int32_t>(le(4)))); break;         // BININT
      case 'K': push(make_int(static_cast<int64_t>(le(1)))); break;         // BININT1
      case 'M': push(make_int(static_cast<int64_t>(le(2)))); break;         // BININT2
      case 0x8a: case 0x8b: {                                                // LONG1 / LONG4: little-endian two's complement
        const uint64_t n = le(op == 0x8a ? 1 : 4);
        if (n > 8) bad("integer wider than 64 bits");
        const uint8_t* q = take(n);
        uint64_t v = 0;
        for (uint64_t k = n; k-- > 0;) v = (v << 8) | q[k];
        if (n > 0 && n < 8 && (q[n - 1] & 0x80)) v |= ~uint64_t{0} << (8 * n);  // sign-extend
        push(make_int(static_cast<int64_t>(v)));
        break;
      }
      case 'G': {  // BINFLOAT: big-endian IEEE double
        const uint8_t* q = take(8);
        uint64_t v = 0;
        for (int k = 0; k < 8; k++) v = (v << 8) | q[k];
        PyObject o; o.kind = Kind::Float; std::memcpy(&o.f, &v, 8); push(make(std::move(o)));
        break;
      }
      case 'X': { const uint64_t n = le(4); push(make_str(Kind::Str, take(n), n)); break; }      // BINUNICODE
      case 0x8c: { const uint64_t n = le(1); push(make_str(Kind::Str, take(n), n)); break; }     // SHORT_BINUNICODE
      case 0x8d: { const uint64_t n = le(8); push(make_str(Kind::Str, take(n), n)); break; }     // BINUNICODE8
      case 'T': { const uint64_t n = le(4); push(make_str(Kind::Bytes, take(n), n)); break; }    // BINSTRING
      case 'U': { const uint64_t n = le(1); push(make_str(Kind::Bytes, take(n), n)); break; }    // SHORT_BINSTRING
      case 'B': { const uint64_t n = le(4); push(make_str(Kind::Bytes, take(n), n)); break; }    // BINBYTES
      case 'C': { const uint64_t n = le(1); push(make_str(Kind::Bytes, take(n), n)); break; }    // SHORT_BINBYTES
      case 0x8e: { const uint64_t n = le(8); push(make_str(Kind::Bytes, take(n), n)); break; }   // BINBYTES8
      case ']': push(make_kind(Kind::List)); break;                          // EMPTY_LIST
      case ')': push(make_kind(Kind::Tuple)); break;                         // EMPTY_TUPLE
      case '}': push(make_kind(Kind::Dict)); break;                          // EMPTY_DICT
      case 0x8f: push(make_kind(Kind::List)); break;                         // EMPTY_SET (kept as a list)
      case 'l': push(make_seq(Kind::List, pop_mark())); break;               // LIST
      case 't': push(make_seq(Kind::Tuple, pop_mark())); break;              // TUPLE
      case 0x91: push(make_seq(Kind::List, pop_mark())); break;              // FROZENSET
      case 0x85: { uint32_t a = pop(); push(make_seq(Kind::Tuple, {a})); break; }                                  // TUPLE1
      case 0x86: { uint32_t b = pop(), a = pop(); push(make_seq(Kind::Tuple, {a, b})); break; }                    // TUPLE2
      case 0x87: { uint32_t c = pop(), b = pop(), a = pop(); push(make_seq(Kind::Tuple, {a, b, c})); break; }      // TUPLE3
      case 'd': {  // DICT
        std::vector<uint32_t> kv = pop_mark();
        if (kv.size() % 2) bad("DICT with an odd number of items");
        push(make_seq(Kind::Dict, std::move(kv)));
        break;
      }
      case 'a': case 'e': case 0x90: {  // APPEND / APPENDS / ADDITEMS
        std::vector<uint32_t> items;
        if (op == 'a') items.push_back(pop());
        else items = pop_mark();
        const uint32_t list = top();
        if (obj(list).kind != Kind::List) bad("APPEND to something that is not a list");
        obj(list).items.insert(obj(list).items.end(), items.begin(), items.end());
        break;
      }
      case 's': case 'u': {  // SETITEM / SETITEMS
        std::vector<uint32_t> kv;
        if (op == 's') { const uint32_t v = pop(), k = pop(); kv = {k, v}; }
        else kv = pop_mark();
        if (kv.size() % 2) bad("SETITEMS with an odd number of items");
        const uint32_t dict = top();
        if (obj(dict).kind != Kind::Dict) bad("SETITEM on something that is not a dict");
        obj(dict).items.insert(obj(dict).items.end(), kv.begin(), kv.end());
        break;
      }
      case 'c': {  // GLOBAL "module\nname\n"
        std::string module = line();
        std::string name = line();
        const std::string full = module + "." + name;
        if (!global_allowed(full)) bad("global '" + full + "' is not allowed");
        PyObject o; o.kind = Kind::Global; o.s = full; push(make(std::move(o)));
        break;
      }
      case 0x93: {  // STACK_GLOBAL
        const uint32_t n = pop(), m = pop();
        if (obj(m).kind != Kind::Str || obj(n).kind != Kind::Str) bad("STACK_GLOBAL names are not strings");
        const std::string full = obj(m).s + "." + obj(n).s;
        if (!global_allowed(full)) bad("global '" + full + "' is not allowed");
        PyObject o; o.kind = Kind::Global; o.s = full; push(make(std::move(o)));
        break;
      }
      case 'R': { const uint32_t args = pop(), fn = pop(); push(reduce(fn, args)); break; }  // REDUCE
      case 0x81: {  // NEWOBJ cls args: only OrderedDict()
        const uint32_t args = pop(), cls = pop();
        if (obj(cls).kind != Kind::Global || obj(cls).s != "collections.OrderedDict") bad("NEWOBJ of a class that is not allowed");
        if (obj(args).kind != Kind::Tuple || !obj(args).items.empty()) bad("OrderedDict built from arguments is not supported");
        push(make_kind(Kind::Dict));
        break;
      }
      case 'b': {  // BUILD: the state of a dict (OrderedDict._metadata) or a Parameter is not needed
        pop();
        const Kind k = obj(top()).kind;
        if (k != Kind::Dict && k != Kind::Tensor) bad("BUILD on an object that takes no state");
        break;
      }
      case 'Q': push(persistent_load(pop())); break;                          // BINPERSID
      case 'q': memo_put(le(1)); break;                                       // BINPUT
      case 'r': memo_put(le(4)); break;                                       // LONG_BINPUT
      case 0x94: memo_put(memo_.size()); break;                               // MEMOIZE
      case 'h': memo_get(le(1)); break;                                       // BINGET
      case 'j': memo_get(le(4)); break;                                       // LONG_BINGET
      default: {
        static const char* hex = "0123456789abcdef";
        bad(std::string("unsupported opcode 0x") + hex[op >> 4] + hex[op & 15]);
      }
    }
  }
}

}  // namespace

const PyObject* Pickle::dict_get(const PyObject& dict, const std::string& key) const {
  if (dict.kind != Kind::Dict) return nullptr;
  for (size_t k = dict.items.size(); k >= 2; k -= 2) {
    const PyObject& name = objects[dict.items[k - 2]];
    if (name.kind == Kind::Str && name.s == key) return &objects[dict.items[k - 1]];
  }
  return nullptr;
}

Pickle unpickle(const uint8_t* data, size_t size) { return Machine(data, size).run(); }

size_t storage_dtype_size(const std::string& dtype) {
  for (const auto& t : kStorageTypes)
    if (dtype == t.dtype) return t.size;
  return 0;
}

}  // namespace tgv
