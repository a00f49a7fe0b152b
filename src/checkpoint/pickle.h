// A pickle reader for exactly what torch.save writes (protocols 2-5), that never
// runs code.
//
// Python's unpickler is a stack machine whose GLOBAL/REDUCE opcodes import and call
// any function named in the file; a checkpoint could therefore run `os.system`.
// This reader executes the same opcodes but only knows a fixed allow-list of
// globals, each replaced by what it would build:
//   collections.OrderedDict                      -> a dict
//   torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad,
//                                   backward_hooks[, metadata])   -> a tensor view
//   torch._utils._rebuild_tensor(storage, offset, size, stride)   -> a tensor view
//   torch._utils._rebuild_parameter[_with_state](tensor, ...)     -> the tensor
//   torch.{Float,Half,BFloat16,Double,Long,Int,Short,Char,Byte,Bool}Storage
//                                                -> storage types, only inside
//   the persistent id ('storage', type, key, location, numel) of BINPERSID.
// Anything else is refused: "pickle: global 'os.system' is not allowed".
//
// Objects live in one arena and refer to each other by index, so deep nesting or
// cycles built by a hostile file cost no recursion here; code that walks the result
// must cap its own depth (see torch_file.cpp).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tgv {

struct PyObject {
  enum class Kind : uint8_t { None, Bool, Int, Float, Str, Bytes, List, Tuple, Dict, Global, Storage, Tensor };
  Kind kind = Kind::None;
  bool b = false;
  int64_t i = 0;                  // Int; Storage: numel
  double f = 0;                   // Float
  std::string s;                  // Str/Bytes; Global: "module.name"; Storage: the zip key ("0", "1", ...)
  std::string dtype;              // Storage: "F32", "F16", "BF16", "F64", "I64", "I32", "I16", "I8", "U8", "BOOL"
  std::vector<uint32_t> items;    // List/Tuple: elements; Dict: key0, value0, key1, value1, ...
  uint32_t storage = 0;           // Tensor: index of its Storage object
  int64_t offset = 0;             // Tensor: storage offset, in elements
  std::vector<int64_t> shape;     // Tensor
  std::vector<int64_t> stride;    // Tensor, in elements
};

struct Pickle {
  std::vector<PyObject> objects;
  uint32_t root = 0;

  const PyObject& at(uint32_t i) const { return objects[i]; }
  // dict[key] for a Str key (the last one wins, as in Python); nullptr when absent or not a dict.
  const PyObject* dict_get(const PyObject& dict, const std::string& key) const;
};

// Throws tgv::Error("pickle: ...") on anything malformed or not allowed.
Pickle unpickle(const uint8_t* data, size_t size);

// Element size of a storage dtype named as in PyObject::dtype.
size_t storage_dtype_size(const std::string& dtype);

}  // namespace tgv
