// SPDX-License-Identifier: GPL-2.0
// The JSON value the tools build and read (the JSON-lines store, --json):
// typed access that throws ParseError naming the key, objects in insertion
// order. Text in and out goes through nlohmann-json (json.cpp); dump() is
// always valid JSON, whatever bytes the strings hold.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace iopf {

class Json {
  public:
    using Array = std::vector<Json>;
    using Object = std::vector<std::pair<std::string, Json>>;

    Json() : v_(nullptr) {}
    Json(std::nullptr_t) : v_(nullptr) {}
    Json(bool b) : v_(b) {}
    Json(int i) : v_(static_cast<int64_t>(i)) {}
    Json(int64_t i) : v_(i) {}
    Json(uint32_t u) : v_(static_cast<uint64_t>(u)) {}
    Json(uint64_t u) : v_(u) {}
    Json(double d) : v_(d) {}
    Json(const char* s) : v_(std::string(s)) {}
    Json(std::string s) : v_(std::move(s)) {}
    Json(Array a) : v_(std::move(a)) {}
    Json(Object o) : v_(std::move(o)) {}

    static Json object() { return Json(Object{}); }
    static Json array() { return Json(Array{}); }

    bool is_null() const { return std::holds_alternative<std::nullptr_t>(v_); }
    bool is_bool() const { return std::holds_alternative<bool>(v_); }
    bool is_number() const;
    bool is_string() const { return std::holds_alternative<std::string>(v_); }
    bool is_array() const { return std::holds_alternative<Array>(v_); }
    bool is_object() const { return std::holds_alternative<Object>(v_); }

    // Typed access; throw ParseError on a type mismatch.
    bool as_bool() const;
    uint64_t as_u64() const; // non-negative integers only
    int64_t as_i64() const;
    const std::string& as_string() const;
    const Array& as_array() const;
    const Object& as_object() const;

    // Object access. find() returns nullptr when the key is absent.
    const Json* find(std::string_view key) const;
    const Json& at(std::string_view key) const; // throws ParseError
    Json& set(std::string key, Json value);     // appends or replaces
    void push(Json value);                      // arrays

    std::string dump() const;                 // compact, one line; non-UTF-8 bytes as U+FFFD
    static Json parse(std::string_view text); // throws ParseError (bad JSON or UTF-8)

    template <typename V> auto visit(V&& v) const { return std::visit(std::forward<V>(v), v_); }

    bool operator==(const Json& o) const;

  private:
    std::variant<std::nullptr_t, bool, int64_t, uint64_t, double, std::string, Array, Object> v_;
};

} // namespace iopf
