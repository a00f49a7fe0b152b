// JSON reader/writer: see include/tinygptv/json.h. RFC 8259 grammar; no extensions.
#include "tinygptv/json.h"
#include "tinygptv/number_text.h"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "tinygptv/error.h"

namespace tgv {

int utf8_decode(std::string_view s, size_t i, uint32_t* cp) {
  if (i >= s.size()) return 0;
  const auto b = [&](size_t k) { return static_cast<uint8_t>(s[i + k]); };
  uint8_t c = b(0);
  if (c < 0x80) { *cp = c; return 1; }
  int len;
  uint32_t v, min;
  if ((c & 0xE0) == 0xC0) { len = 2; v = c & 0x1F; min = 0x80; }
  else if ((c & 0xF0) == 0xE0) { len = 3; v = c & 0x0F; min = 0x800; }
  else if ((c & 0xF8) == 0xF0) { len = 4; v = c & 0x07; min = 0x10000; }
  else return 0;
  if (s.size() - i < static_cast<size_t>(len)) return 0;
  for (int k = 1; k < len; k++) {
    if ((b(k) & 0xC0) != 0x80) return 0;
    v = (v << 6) | (b(k) & 0x3F);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  *cp = v;
  return len;
}

void utf8_append(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool utf8_valid(std::string_view s) {
  uint32_t cp;
  for (size_t i = 0; i < s.size();) {
    int n = utf8_decode(s, i, &cp);
    if (n == 0) return false;
    i += static_cast<size_t>(n);
  }
  return true;
}

class JsonParser {
 public:
  JsonParser(std::string_view s, int max_depth) : s_(s), max_depth_(max_depth) {}

  Json parse_document() {
    Json v = value(0);
    ws();
    if (pos_ != s_.size()) error("trailing characters after the value");
    return v;
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
  int max_depth_;

  [[noreturn]] void error(const std::string& what) const {
    fail("json: " + what + " at byte " + std::to_string(pos_));
  }
  void ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) pos_++;
  }
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void expect(char c) {
    if (pos_ >= s_.size() || s_[pos_] != c) error(std::string("expected '") + c + "'");
    pos_++;
  }
  void literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) error("invalid literal");
    pos_ += word.size();
  }

  Json value(int depth) {
    if (depth > max_depth_) error("nesting deeper than " + std::to_string(max_depth_));
    ws();
    if (pos_ >= s_.size()) error("unexpected end of input");
    Json v;
    switch (s_[pos_]) {
      case '{': v = object(depth); break;
      case '[': v = array(depth); break;
      case '"': v.type_ = Json::Type::String; v.str_ = string(); break;
      case 't': literal("true"); v.type_ = Json::Type::Bool; v.bool_ = true; break;
      case 'f': literal("false"); v.type_ = Json::Type::Bool; break;
      case 'n': literal("null"); break;
      default: v = number(); break;
    }
    return v;
  }

  Json object(int depth) {
    Json v;
    v.type_ = Json::Type::Object;
    expect('{');
    ws();
    if (peek() == '}') { pos_++; return v; }
    for (;;) {
      ws();
      if (peek() != '"') error("expected a string key");
      std::string key = string();
      ws();
      expect(':');
      v.obj_.emplace_back(std::move(key), value(depth + 1));
      ws();
      if (peek() == ',') { pos_++; continue; }
      expect('}');
      return v;
    }
  }

  Json array(int depth) {
    Json v;
    v.type_ = Json::Type::Array;
    expect('[');
    ws();
    if (peek() == ']') { pos_++; return v; }
    for (;;) {
      v.arr_.push_back(value(depth + 1));
      ws();
      if (peek() == ',') { pos_++; continue; }
      expect(']');
      return v;
    }
  }

  uint32_t hex4() {
    if (s_.size() - pos_ < 4) error("truncated \\u escape");
    uint32_t v = 0;
    for (int k = 0; k < 4; k++) {
      char c = s_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') v |= static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= static_cast<uint32_t>(c - 'A' + 10);
      else error("bad hex digit in \\u escape");
    }
    return v;
  }

  std::string string() {
    expect('"');
    std::string out;
    for (;;) {
      if (pos_ >= s_.size()) error("unterminated string");
      uint8_t c = static_cast<uint8_t>(s_[pos_]);
      if (c == '"') { pos_++; return out; }
      if (c < 0x20) error("control character in string");
      if (c == '\\') {
        pos_++;
        if (pos_ >= s_.size()) error("unterminated escape");
        char e = s_[pos_++];
        switch (e) {
          case '"': out += '"'; break;
          case '\\': out += '\\'; break;
          case '/': out += '/'; break;
          case 'b': out += '\b'; break;
          case 'f': out += '\f'; break;
          case 'n': out += '\n'; break;
          case 'r': out += '\r'; break;
          case 't': out += '\t'; break;
          case 'u': {
            uint32_t cp = hex4();
            if (cp >= 0xD800 && cp <= 0xDBFF) {
              if (s_.substr(pos_, 2) != "\\u") error("unpaired surrogate escape");
              pos_ += 2;
              uint32_t lo = hex4();
              if (lo < 0xDC00 || lo > 0xDFFF) error("unpaired surrogate escape");
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
              error("unpaired surrogate escape");
            }
            utf8_append(out, cp);
            break;
          }
          default: error("bad escape");
        }
        continue;
      }
      if (c < 0x80) { out += static_cast<char>(c); pos_++; continue; }
      uint32_t cp;
      int n = utf8_decode(s_, pos_, &cp);
      if (n == 0) error("invalid UTF-8 in string");
      out.append(s_.substr(pos_, static_cast<size_t>(n)));
      pos_ += static_cast<size_t>(n);
    }
  }

  Json number() {
    size_t start = pos_;
    bool is_int = true;
    if (peek() == '-') pos_++;
    if (peek() == '0') {
      pos_++;
    } else if (peek() >= '1' && peek() <= '9') {
      while (peek() >= '0' && peek() <= '9') pos_++;
    } else {
      error("invalid value");
    }
    if (peek() == '.') {
      is_int = false;
      pos_++;
      if (!(peek() >= '0' && peek() <= '9')) error("digit expected after '.'");
      while (peek() >= '0' && peek() <= '9') pos_++;
    }
    if (peek() == 'e' || peek() == 'E') {
      is_int = false;
      pos_++;
      if (peek() == '+' || peek() == '-') pos_++;
      if (!(peek() >= '0' && peek() <= '9')) error("digit expected in exponent");
      while (peek() >= '0' && peek() <= '9') pos_++;
    }
    const char* b = s_.data() + start;
    const char* e = s_.data() + pos_;
    Json v;
    v.type_ = Json::Type::Number;
    double d = 0;
    bool too_large = false;  // magnitude too large: d is kept infinite
    if (!parse_double(b, e, &d, &too_large)) error("invalid number");
    v.num_ = d;
    if (is_int) {
      int64_t i = 0;
      auto ri = std::from_chars(b, e, i);
      if (ri.ec == std::errc() && ri.ptr == e) { v.is_int_ = true; v.int_ = i; }
    }
    return v;
  }
};

Json Json::parse(std::string_view text, int max_depth) { return JsonParser(text, max_depth).parse_document(); }

static const char* type_name(Json::Type t) {
  switch (t) {
    case Json::Type::Null: return "null";
    case Json::Type::Bool: return "bool";
    case Json::Type::Number: return "number";
    case Json::Type::String: return "string";
    case Json::Type::Array: return "array";
    case Json::Type::Object: return "object";
  }
  return "?";
}

static void want(const Json& j, Json::Type t) {
  if (j.type() != t) fail(std::string("json: expected ") + type_name(t) + ", got " + type_name(j.type()));
}

bool Json::as_bool() const { want(*this, Type::Bool); return bool_; }
double Json::as_number() const { want(*this, Type::Number); return num_; }
int64_t Json::as_int() const {
  want(*this, Type::Number);
  if (!is_int_) fail("json: expected an integer, got " + dump());
  return int_;
}
const std::string& Json::as_string() const { want(*this, Type::String); return str_; }
const std::vector<Json>& Json::as_array() const { want(*this, Type::Array); return arr_; }
const std::vector<std::pair<std::string, Json>>& Json::as_object() const { want(*this, Type::Object); return obj_; }

const Json* Json::find(std::string_view key) const {
  if (type_ != Type::Object) return nullptr;
  for (const auto& [k, v] : obj_)
    if (k == key) return &v;
  return nullptr;
}

const Json& Json::at(std::string_view key) const {
  want(*this, Type::Object);
  const Json* v = find(key);
  if (!v) fail("json: missing key '" + std::string(key) + "'");
  return *v;
}

size_t Json::size() const {
  if (type_ == Type::Array) return arr_.size();
  if (type_ == Type::Object) return obj_.size();
  return 0;
}

Json Json::boolean(bool b) { Json j; j.type_ = Type::Bool; j.bool_ = b; return j; }
Json Json::number(double d) { Json j; j.type_ = Type::Number; j.num_ = d; return j; }
Json Json::integer(int64_t i) {
  Json j; j.type_ = Type::Number; j.is_int_ = true; j.int_ = i; j.num_ = static_cast<double>(i); return j;
}
Json Json::string(std::string s) { Json j; j.type_ = Type::String; j.str_ = std::move(s); return j; }
Json Json::array(std::vector<Json> items) { Json j; j.type_ = Type::Array; j.arr_ = std::move(items); return j; }
Json Json::object(std::vector<std::pair<std::string, Json>> members) {
  Json j; j.type_ = Type::Object; j.obj_ = std::move(members); return j;
}
void Json::push_back(Json v) { want(*this, Type::Array); arr_.push_back(std::move(v)); }
void Json::set(std::string key, Json v) {
  want(*this, Type::Object);
  for (auto& [k, old] : obj_)
    if (k == key) { old = std::move(v); return; }
  obj_.emplace_back(std::move(key), std::move(v));
}

std::string json_quote(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    uint8_t c = static_cast<uint8_t>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  return out + "\"";
}

std::string Json::dump() const {
  switch (type_) {
    case Type::Null: return "null";
    case Type::Bool: return bool_ ? "true" : "false";
    case Type::Number: {
      if (is_int_) return std::to_string(int_);
      if (!std::isfinite(num_)) return "null";
      // -0.0 as "-0" would read back as the integer 0 and lose its sign
      if (num_ == 0 && std::signbit(num_)) return "-0.0";
      return format_shortest(num_);  // shortest round-trip form
    }
    case Type::String: return json_quote(str_);
    case Type::Array: {
      std::string out = "[";
      for (size_t i = 0; i < arr_.size(); i++) {
        if (i) out += ',';
        out += arr_[i].dump();
      }
      return out + "]";
    }
    case Type::Object: {
      std::string out = "{";
      for (size_t i = 0; i < obj_.size(); i++) {
        if (i) out += ',';
        out += json_quote(obj_[i].first);
        out += ':';
        out += obj_[i].second.dump();
      }
      return out + "}";
    }
  }
  return "null";
}

}  // namespace tgv
