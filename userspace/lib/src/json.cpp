// SPDX-License-Identifier: GPL-2.0
// Reading and writing are nlohmann-json's (Debian's nlohmann-json3-dev);
// what is here is the typed access the callers use (ParseError naming the
// key, insertion order kept) and the conversion to and from its values.
#include "iopf/json.hpp"

#include <nlohmann/json.hpp>

#include <fmt/core.h>

#include "iopf/error.hpp"

namespace iopf {

namespace {

using Lib = nlohmann::ordered_json;

// Deeper documents are not ours; the limit also bounds the conversions' recursion
constexpr int kMaxDepth = 64;

Lib to_lib(const Json& j);

struct ToLib {
    Lib operator()(std::nullptr_t) const { return nullptr; }
    Lib operator()(bool b) const { return b; }
    Lib operator()(int64_t i) const { return i; }
    Lib operator()(uint64_t u) const { return u; }
    Lib operator()(double d) const { return d; } // NaN and infinities dump as null
    Lib operator()(const std::string& s) const { return s; }
    Lib operator()(const Json::Array& a) const {
        Lib out = Lib::array();
        for (const auto& e : a)
            out.push_back(to_lib(e));
        return out;
    }
    Lib operator()(const Json::Object& o) const {
        Lib out = Lib::object();
        for (const auto& [k, v] : o)
            out[k] = to_lib(v);
        return out;
    }
};

Lib to_lib(const Json& j) {
    return j.visit(ToLib{});
}

Json from_lib(const Lib& l) {
    switch (l.type()) {
    case Lib::value_t::boolean:
        return Json(l.get<bool>());
    case Lib::value_t::number_integer:
        return Json(l.get<int64_t>());
    case Lib::value_t::number_unsigned:
        return Json(l.get<uint64_t>());
    case Lib::value_t::number_float:
        return Json(l.get<double>());
    case Lib::value_t::string:
        return Json(l.get<std::string>());
    case Lib::value_t::array: {
        Json::Array a;
        a.reserve(l.size());
        for (const auto& e : l)
            a.push_back(from_lib(e));
        return Json(std::move(a));
    }
    case Lib::value_t::object: {
        Json o = Json::object();
        for (const auto& [k, v] : l.items())
            o.set(k, from_lib(v));
        return o;
    }
    default:
        return Json();
    }
}

} // namespace

bool Json::is_number() const {
    return std::holds_alternative<int64_t>(v_) || std::holds_alternative<uint64_t>(v_) ||
           std::holds_alternative<double>(v_);
}

bool Json::as_bool() const {
    if (!is_bool())
        throw ParseError("expected a boolean");
    return std::get<bool>(v_);
}

uint64_t Json::as_u64() const {
    if (auto* u = std::get_if<uint64_t>(&v_))
        return *u;
    if (auto* i = std::get_if<int64_t>(&v_); i && *i >= 0)
        return static_cast<uint64_t>(*i);
    throw ParseError("expected a non-negative integer");
}

int64_t Json::as_i64() const {
    if (auto* i = std::get_if<int64_t>(&v_))
        return *i;
    if (auto* u = std::get_if<uint64_t>(&v_); u && *u <= INT64_MAX)
        return static_cast<int64_t>(*u);
    throw ParseError("expected an integer");
}

const std::string& Json::as_string() const {
    if (!is_string())
        throw ParseError("expected a string");
    return std::get<std::string>(v_);
}

const Json::Array& Json::as_array() const {
    if (!is_array())
        throw ParseError("expected an array");
    return std::get<Array>(v_);
}

const Json::Object& Json::as_object() const {
    if (!is_object())
        throw ParseError("expected an object");
    return std::get<Object>(v_);
}

const Json* Json::find(std::string_view key) const {
    if (!is_object())
        return nullptr;
    for (const auto& [k, v] : std::get<Object>(v_))
        if (k == key)
            return &v;
    return nullptr;
}

const Json& Json::at(std::string_view key) const {
    if (const Json* j = find(key))
        return *j;
    throw ParseError(fmt::format("missing key '{}'", key));
}

Json& Json::set(std::string key, Json value) {
    if (!is_object())
        v_ = Object{};
    auto& o = std::get<Object>(v_);
    for (auto& [k, v] : o) {
        if (k == key) {
            v = std::move(value);
            return v;
        }
    }
    o.emplace_back(std::move(key), std::move(value));
    return o.back().second;
}

void Json::push(Json value) {
    if (!is_array())
        v_ = Array{};
    std::get<Array>(v_).push_back(std::move(value));
}

bool Json::operator==(const Json& o) const {
    return v_ == o.v_;
}

std::string Json::dump() const {
    // Bytes that are not UTF-8 (a path, a config value) become U+FFFD: the
    // output is always valid JSON
    return to_lib(*this).dump(-1, ' ', false, Lib::error_handler_t::replace);
}

Json Json::parse(std::string_view text) {
    auto depth_limit = [](int depth, Lib::parse_event_t, Lib&) {
        if (depth > kMaxDepth)
            throw ParseError("JSON: nesting too deep");
        return true;
    };
    try {
        return from_lib(Lib::parse(text.begin(), text.end(), depth_limit));
    } catch (const Lib::exception& e) {
        throw ParseError(fmt::format("JSON: {}", e.what()));
    }
}

} // namespace iopf
