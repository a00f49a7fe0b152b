// A small JSON reader/writer for untrusted input: model-file headers, configs,
// tokenizer vocabularies. Every read is bounds-checked, nesting is capped, strings
// must be valid UTF-8 (\u escapes, surrogate pairs included, become UTF-8), and
// numbers keep an exact int64 when they are written as integers.
//
//   Json j = Json::parse(text);             // throws tgv::Error("json: ... at byte N")
//   const Json* v = j.find("key");          // nullptr when absent (objects only)
//   int64_t n = j.at("n").as_int();         // throws when the type is wrong
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tgv {

class Json {
 public:
  enum class Type { Null, Bool, Number, String, Array, Object };

  static Json parse(std::string_view text, int max_depth = 64);

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::Null; }
  bool is_bool() const { return type_ == Type::Bool; }
  bool is_number() const { return type_ == Type::Number; }
  bool is_integer() const { return type_ == Type::Number && is_int_; }
  bool is_string() const { return type_ == Type::String; }
  bool is_array() const { return type_ == Type::Array; }
  bool is_object() const { return type_ == Type::Object; }

  // Typed access: throw tgv::Error naming the expected type (and `what` if given).
  bool as_bool() const;
  double as_number() const;
  int64_t as_int() const;                 // exact; a number with a fraction is an error
  const std::string& as_string() const;
  const std::vector<Json>& as_array() const;
  const std::vector<std::pair<std::string, Json>>& as_object() const;  // in file order

  const Json* find(std::string_view key) const;  // first member with that key
  const Json& at(std::string_view key) const;    // throws "json: missing key 'k'"
  size_t size() const;                           // array/object element count

  // Builders, for writing headers and dumps.
  Json() = default;
  static Json null() { return Json(); }
  static Json boolean(bool b);
  static Json number(double d);
  static Json integer(int64_t i);
  static Json string(std::string s);
  static Json array(std::vector<Json> items = {});
  static Json object(std::vector<std::pair<std::string, Json>> members = {});
  void push_back(Json v);                        // arrays
  void set(std::string key, Json v);             // objects: replaces or appends

  std::string dump() const;                      // compact, round-trips doubles

 private:
  Type type_ = Type::Null;
  bool bool_ = false;
  bool is_int_ = false;
  int64_t int_ = 0;
  double num_ = 0;
  std::string str_;
  std::vector<Json> arr_;
  std::vector<std::pair<std::string, Json>> obj_;
  friend class JsonParser;
};

std::string json_quote(std::string_view s);  // "..." with JSON escapes

// UTF-8 helpers shared by the JSON reader and the tokenizer.
// Decodes one code point at s[i]; returns its length (1-4) or 0 if invalid
// (truncated, overlong, surrogate, > U+10FFFF).
int utf8_decode(std::string_view s, size_t i, uint32_t* cp);
void utf8_append(std::string& out, uint32_t cp);
bool utf8_valid(std::string_view s);

}  // namespace tgv
