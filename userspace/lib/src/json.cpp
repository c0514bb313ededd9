// SPDX-License-Identifier: GPL-2.0
#include "iopf/json.hpp"

#include <cctype>
#include <charconv>
#include <cmath>

#include <fmt/core.h>

#include "iopf/error.hpp"

namespace iopf {

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

namespace {

void dump_string(std::string& out, const std::string& s) {
    out += '"';
    for (unsigned char c : s) {
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        default:
            if (c < 0x20)
                out += fmt::format("\\u{:04x}", c);
            else
                out += static_cast<char>(c);
        }
    }
    out += '"';
}

struct Dumper {
    std::string& out;
    void operator()(std::nullptr_t) { out += "null"; }
    void operator()(bool b) { out += b ? "true" : "false"; }
    void operator()(int64_t i) { out += std::to_string(i); }
    void operator()(uint64_t u) { out += std::to_string(u); }
    void operator()(double d) {
        if (!std::isfinite(d))
            out += "null";
        else
            out += fmt::format("{}", d);
    }
    void operator()(const std::string& s) { dump_string(out, s); }
    void operator()(const Json::Array& a) {
        out += '[';
        for (std::size_t i = 0; i < a.size(); i++) {
            if (i)
                out += ',';
            out += a[i].dump();
        }
        out += ']';
    }
    void operator()(const Json::Object& o) {
        out += '{';
        for (std::size_t i = 0; i < o.size(); i++) {
            if (i)
                out += ',';
            dump_string(out, o[i].first);
            out += ':';
            out += o[i].second.dump();
        }
        out += '}';
    }
};

class Parser {
  public:
    explicit Parser(std::string_view t) : t_(t) {}

    Json parse_all() {
        Json v = value(0);
        ws();
        if (p_ != t_.size())
            fail("trailing characters");
        return v;
    }

  private:
    [[noreturn]] void fail(const char* what) {
        throw ParseError(fmt::format("JSON: {} at offset {}", what, p_));
    }
    void ws() {
        while (p_ < t_.size() &&
               (t_[p_] == ' ' || t_[p_] == '\t' || t_[p_] == '\n' || t_[p_] == '\r'))
            p_++;
    }
    bool eat(char c) {
        ws();
        if (p_ < t_.size() && t_[p_] == c) {
            p_++;
            return true;
        }
        return false;
    }
    void expect(char c) {
        if (!eat(c))
            fail(fmt::format("expected '{}'", c).c_str());
    }
    bool literal(std::string_view w) {
        if (t_.substr(p_, w.size()) == w) {
            p_ += w.size();
            return true;
        }
        return false;
    }

    Json value(int depth) {
        if (depth > 64)
            fail("nesting too deep");
        ws();
        if (p_ >= t_.size())
            fail("unexpected end");
        char c = t_[p_];
        if (c == '{')
            return object(depth);
        if (c == '[')
            return array(depth);
        if (c == '"')
            return Json(string());
        if (literal("null"))
            return Json(nullptr);
        if (literal("true"))
            return Json(true);
        if (literal("false"))
            return Json(false);
        return number();
    }

    Json object(int depth) {
        p_++;
        Json o = Json::object();
        if (eat('}'))
            return o;
        do {
            ws();
            if (p_ >= t_.size() || t_[p_] != '"')
                fail("expected a key");
            std::string k = string();
            expect(':');
            o.set(std::move(k), value(depth + 1));
        } while (eat(','));
        expect('}');
        return o;
    }

    Json array(int depth) {
        p_++;
        Json a = Json::array();
        if (eat(']'))
            return a;
        do {
            a.push(value(depth + 1));
        } while (eat(','));
        expect(']');
        return a;
    }

    std::string string() {
        p_++; // opening quote
        std::string s;
        while (p_ < t_.size()) {
            char c = t_[p_++];
            if (c == '"')
                return s;
            if (static_cast<unsigned char>(c) < 0x20)
                fail("control character in string");
            if (c != '\\') {
                s += c;
                continue;
            }
            if (p_ >= t_.size())
                break;
            char e = t_[p_++];
            switch (e) {
            case '"':
            case '\\':
            case '/':
                s += e;
                break;
            case 'n':
                s += '\n';
                break;
            case 't':
                s += '\t';
                break;
            case 'r':
                s += '\r';
                break;
            case 'b':
                s += '\b';
                break;
            case 'f':
                s += '\f';
                break;
            case 'u': {
                unsigned cp = 0;
                auto r = std::from_chars(t_.data() + p_, t_.data() + std::min(p_ + 4, t_.size()),
                                         cp, 16);
                if (r.ptr != t_.data() + p_ + 4)
                    fail("bad \\u escape");
                p_ += 4;
                if (cp < 0x80) {
                    s += static_cast<char>(cp);
                } else if (cp < 0x800) {
                    s += static_cast<char>(0xc0 | (cp >> 6));
                    s += static_cast<char>(0x80 | (cp & 0x3f));
                } else {
                    s += static_cast<char>(0xe0 | (cp >> 12));
                    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
                    s += static_cast<char>(0x80 | (cp & 0x3f));
                }
                break;
            }
            default:
                fail("bad escape");
            }
        }
        fail("unterminated string");
    }

    Json number() {
        std::size_t start = p_;
        if (p_ < t_.size() && t_[p_] == '-')
            p_++;
        bool frac = false;
        while (p_ < t_.size() &&
               (std::isdigit(static_cast<unsigned char>(t_[p_])) || t_[p_] == '.' ||
                t_[p_] == 'e' || t_[p_] == 'E' || t_[p_] == '+' || t_[p_] == '-')) {
            if (!std::isdigit(static_cast<unsigned char>(t_[p_])))
                frac = true;
            p_++;
        }
        std::string_view n = t_.substr(start, p_ - start);
        if (n.empty() || n == "-")
            fail("unexpected character");
        const char* b = n.data();
        const char* e = n.data() + n.size();
        if (!frac) {
            if (n[0] == '-') {
                int64_t i = 0;
                auto r = std::from_chars(b, e, i);
                if (r.ec == std::errc() && r.ptr == e)
                    return Json(i);
            } else {
                uint64_t u = 0;
                auto r = std::from_chars(b, e, u);
                if (r.ec == std::errc() && r.ptr == e)
                    return Json(u);
            }
        }
        double d = 0;
        auto r = std::from_chars(b, e, d);
        if (r.ec != std::errc() || r.ptr != e)
            fail("bad number");
        return Json(d);
    }

    std::string_view t_;
    std::size_t p_ = 0;
};

} // namespace

std::string Json::dump() const {
    std::string out;
    std::visit(Dumper{out}, v_);
    return out;
}

Json Json::parse(std::string_view text) {
    return Parser(text).parse_all();
}

} // namespace iopf
