// The Jinja language as chat templates use it. Expected strings were produced by Python
// jinja2 3.1.6 configured like transformers (ImmutableSandboxedEnvironment,
// trim_blocks=True, lstrip_blocks=True, loopcontrols, tojson = json.dumps with
// ensure_ascii=False), except where a comment says we deliberately differ.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "chat/jinja.h"
#include "core/error.h"

namespace {

using nlohmann::json;
using s1::jinja::Limits;
using s1::jinja::Program;
using s1::jinja::Value;
using s1::jinja::Vars;
using testing::HasSubstr;

const json kMessages = json::parse(R"([{"role": "system", "content": "Be brief."},
  {"role": "user", "content": "Hello there"}, {"role": "assistant", "content": "Hi!"}])");

std::string render(const std::string& src, const json& vars = json::object(), const Limits& limits = {}) {
  Program p(src);
  Vars v;
  for (const auto& [k, x] : vars.items()) v.emplace_back(k, Value::from_json(x));
  return p.render(v, limits);
}

std::string msgs(const std::string& src) { return render(src, {{"messages", kMessages}}); }

// The message of the s1::Error that parsing or rendering throws ("" when none).
std::string error_of(const std::string& src, const json& vars = json::object(), const Limits& limits = {}) {
  try {
    render(src, vars, limits);
  } catch (const s1::Error& e) {
    return e.what();
  }
  return "";
}

// ---- whitespace ----

TEST(JinjaWhitespace, TrimBlocksAndLstripBlocks) {
  EXPECT_EQ(render("{% if true %}\n  yes\n{% endif %}\n  after"), "  yes\n  after");
  EXPECT_EQ(render("  {% if true %}\nx{% endif %}"), "x");
  EXPECT_EQ(render("{{ 'v' }}  {% if true %}y{% endif %}"), "v  y");  // not at line start: kept
  EXPECT_EQ(render("line1\n    {% for i in [1] %}\n    item\n    {% endfor %}\nend\n"), "line1\n    item\nend");
  EXPECT_EQ(render("{{ 'a' }}\n{{ 'b' }}"), "a\nb");  // trim_blocks does not apply to }}
}

TEST(JinjaWhitespace, ExplicitMarkers) {
  EXPECT_EQ(render("a {{- ' b ' -}} c"), "a b c");
  EXPECT_EQ(render("{%- set x = 'a' -%}\n\n  {{ x }}  \n\n{%- if true -%}  y  {%- endif -%}  \n z"), "ayz");
  EXPECT_EQ(render("{% if true -%}\n   a\n{%- endif %}"), "a");
  EXPECT_EQ(render("{%+ if true %}x{% endif %}\n  {%+ if true %}y{% endif %}"), "x  y");  // + keeps indentation
  EXPECT_EQ(render("{% if true +%}\nx{% endif %}"), "\nx");                                 // +%} keeps the newline
}

TEST(JinjaWhitespace, CommentsRawAndNewlines) {
  EXPECT_EQ(render("a  {#- c -#}  b\n  {# c #}\nz"), "ab\nz");
  EXPECT_EQ(render("x {# c #} y"), "x  y");
  EXPECT_EQ(render("{% raw %}{{ x }}{% endraw %}"), "{{ x }}");
  EXPECT_EQ(render("a\n  {% raw %}\n {{ x }}\n  {% endraw %}\nb"), "a\n\n {{ x }}\nb");
  EXPECT_EQ(render("trailing\n"), "trailing");  // keep_trailing_newline=False drops one
  EXPECT_EQ(render("trailing\n\n"), "trailing\n");
  EXPECT_EQ(render("a\r\nb\rc"), "a\nb\nc");  // newlines normalised
}

// ---- literals, printing, operators ----

TEST(JinjaExpressions, PrintingIsPythonStr) {
  EXPECT_EQ(render("{{ [1,2.5,'a',\"b'\",none,true,{'k':(1,2)}] }}"), "[1, 2.5, 'a', \"b'\", None, True, {'k': (1, 2)}]");
  EXPECT_EQ(render("{{ x }}|{{ none }}|{{ True }}|{{ false }}"), "|None|True|False");
  EXPECT_EQ(render("{{ (1, 2) }}{{ (1,) }}{{ () }}{{ 1, 2 }}"), "(1, 2)(1,)()(1, 2)");
  EXPECT_EQ(render("{{ 1e16 }} {{ 1e-5 }} {{ 0.0001 }} {{ 1.0 }} {{ 3.14 }} {{ 0.1+0.2 }} {{ 1/3 }} {{ -0.0 }} {{ 1.5e-7 }}"),
            "1e+16 1e-05 0.0001 1.0 3.14 0.30000000000000004 0.3333333333333333 -0.0 1.5e-07");
  EXPECT_EQ(render("{{ 123456789012345678.0 }} {{ 12345678901234567.0 }} {{ 1e100 }}"),
            "1.2345678901234568e+17 1.2345678901234568e+16 1e+100");
  EXPECT_EQ(render("{{ ['it\\'s', 'a\"b', \"a'b\\\"c\", 'tab\\t'] }}"), "[\"it's\", 'a\"b', 'a\\'b\"c', 'tab\\t']");
  EXPECT_EQ(render("{{ '\\u00e9\\x41\\t|' }}{{ 'a' 'b' }}"), "\xc3\xa9" "A\t|ab");
  EXPECT_EQ(render("{{ 1_000 }} {{ 0x10 }} {{ 0o10 }} {{ 0b101 }} {{ 1.5e3 }} {{ 1E3 }}"), "1000 16 8 5 1500.0 1000.0");
}

TEST(JinjaExpressions, Arithmetic) {
  EXPECT_EQ(render("{{ 2**3**2 }} {{ -2**2 }} {{ -1|abs }} {{ (1 + 2) ~ 3 }}"), "64 4 1 33");
  EXPECT_EQ(render("{{ 10/4 }} {{ 10//4 }} {{ -7//2 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 2**-1 }} {{ 4 / 2 }}"),
            "2.5 2 -4 2 -2 0.5 2.0");
  EXPECT_EQ(render("{{ 7.5 // 2 }} {{ -7.5 % 2 }} {{ 1 + true }} {{ 2 ** 0.5 }}"), "3.0 0.5 2 1.4142135623730951");
  EXPECT_EQ(render("{{ 'a' * 3 }} {{ [1]*2 }} {{ 'ab' + 'c' }} {{ [1] + [2] }} {{ 0 * 'ab' }}|"), "aaa [1, 1] abc [1, 2] |");
  EXPECT_EQ(render("{{ 'a' ~ 1.0 ~ none ~ true ~ x }}"), "a1.0NoneTrue");
  EXPECT_EQ(render("{{ '%s=%d' % ('a', 3) }} {{ '%05.2f|%-4s|%x' % (3.14159, 'ab', 255) }}"), "a=3 03.14|ab  |ff");
  EXPECT_THAT(error_of("{{ 1 + 2 ~ 3 }}"), HasSubstr("unsupported operand type(s) for +: 'int' and 'str'"));
  EXPECT_THAT(error_of("{{ 10 // 0 }}"), HasSubstr("division or modulo by zero"));
  EXPECT_THAT(error_of("{{ foo + 'x' }}"), HasSubstr("'foo' is undefined"));
  // Python ints are unbounded; ours are 64-bit and overflow is an error, not a wrap.
  EXPECT_THAT(error_of("{{ 9223372036854775807 + 1 }}"), HasSubstr("integer overflow"));
}

TEST(JinjaExpressions, ComparisonsAndLogic) {
  EXPECT_EQ(render("{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 1 == 1.0 }} {{ [1,2] < [1,3] }} {{ [1] == (1,) }}"),
            "True False True True False");
  EXPECT_EQ(render("{{ 'a' in 'abc' }} {{ 1 in [1] }} {{ 'k' in {'k':1} }} {{ 'a' not in 'abc' }} {{ 5 not in [1] }}"),
            "True True True False True");
  EXPECT_EQ(render("{{ not 1 }} {{ not not 1 }} {{ 1 and 2 }} {{ 0 or 'b' }} {{ none or 0 }} {{ 1 and 0 }}"),
            "False True 2 b 0 0");
  EXPECT_EQ(render("{{ 'x' if 1 else 'y' }}{{ 'x' if 0 else 'y' }}{{ 'x' if 0 else 'y' if 0 else 'z' }}|{{ 1 if false }}|"),
            "xyz||");
  EXPECT_THAT(error_of("{{ 'abc' < 1 }}"), HasSubstr("'<' not supported between instances of 'str' and 'int'"));
}

TEST(JinjaExpressions, AttributesItemsAndUndefined) {
  EXPECT_EQ(msgs("{{ messages[0]['nope'] }}|{{ messages[0].nope }}|{{ messages[10] }}|{{ messages[-1].content }}"),
            "|||Hi!");
  EXPECT_EQ(msgs("{{ messages[0]['nope'] is defined }}{{ messages[0].role is defined }}{{ none.bar is defined }}"),
            "FalseTrueFalse");
  EXPECT_EQ(render("{{ 'abc'[1] }} {{ 'abc'.0 }} {{ [5,6].1 }} {{ {'a':1}['a'] }} {{ {'items': 1}['items'] }}"),
            "b a 6 1 1");
  EXPECT_EQ(render("{{ undefined_var|length }}{{ undefined_var }}"), "0");
  // Jinja2 raises UndefinedError for an attribute of an undefined value; we give another
  // undefined value (more lenient, so any template transformers renders, we render).
  EXPECT_EQ(render("{{ foo.bar.baz }}|{{ foo['bar'] }}|{{ x.y is defined }}"), "||False");
}

TEST(JinjaExpressions, Slices) {
  EXPECT_EQ(render("{% set l = [1,2,3,4,5] %}{{ l[1:4] }} {{ l[::2] }} {{ l[-2:] }} {{ l[:-2] }} {{ l[::-2] }} {{ l[10:] }} "
                   "{{ l[-10:2] }} {{ l[4:1:-1] }}"),
            "[2, 3, 4] [1, 3, 5] [4, 5] [1, 2, 3] [5, 3, 1] [] [1, 2] [5, 4, 3]");
  EXPECT_EQ(render("{% set s = 'hello' %}{{ s[1:4] }} {{ s[::2] }} {{ s[-2:] }} {{ s[:-2] }} {{ s[::-1] }}"),
            "ell hlo lo hel olleh");
  EXPECT_EQ(render("{{ 'h\xc3\xa9llo'[1:3] }} {{ 'h\xc3\xa9llo'|length }} {{ (1,2,3)[1:] }}"), "\xc3\xa9l 5 (2, 3)");
  EXPECT_EQ(msgs("{% for m in messages[::-1] %}{{ m.role }} {% endfor %}"), "assistant user system ");
  EXPECT_THAT(error_of("{{ [1][::0] }}"), HasSubstr("slice step cannot be zero"));
}

// ---- statements ----

TEST(JinjaStatements, LoopVariables) {
  EXPECT_EQ(render("{% for a in [1,2,3] if a > 1 %}{{ loop.index }}/{{ loop.length }}{{ loop.last }} {% else %}none{% endfor %}"),
            "1/2False 2/2True ");
  EXPECT_EQ(render("{% for x in [1,2] %}{{ loop.previtem }}/{{ loop.nextitem }}/{{ loop.revindex }}/{{ loop.revindex0 }};{% endfor %}"),
            "/2/2/1;1//1/0;");
  EXPECT_EQ(msgs("{% for m in messages %}{{ loop.index0 }}{{ loop.first }}{{ m.role|upper }} {% endfor %}"),
            "0TrueSYSTEM 1FalseUSER 2FalseASSISTANT ");
  EXPECT_EQ(render("{% for i in range(4) %}{{ loop.cycle('a', 'b') }}{% endfor %}"), "abab");
  EXPECT_EQ(render("{% for i in range(2) %}{% for j in range(2) %}{{ loop.index }}{% endfor %}{{ loop.index }};{% endfor %}"),
            "121;122;");
  EXPECT_EQ(render("{% for a in [] %}x{% else %}none{% endfor %}"), "none");
  EXPECT_EQ(render("{{ loop }}"), "");
}

TEST(JinjaStatements, BreakContinueAndUnpacking) {
  EXPECT_EQ(render("{% for i in range(3) %}{% if i == 1 %}{% continue %}{% endif %}{{ i }}{% endfor %}"), "02");
  EXPECT_EQ(render("{% for i in range(3) %}{% if i == 1 %}{% break %}{% endif %}{{ i }}{% endfor %}"), "0");
  EXPECT_EQ(render("{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}"), "a=1;b=2;");
  EXPECT_EQ(render("{% for k in {'a': 1, 'b': 2} %}{{ k }}{% endfor %}{% for a, b in [[1,2],[3,4]] %}{{ a }}{{ b }}{% endfor %}"),
            "ab1234");
  EXPECT_EQ(render("{% for c in 'h\xc3\xa9' %}[{{ c }}]{% endfor %}"), "[h][\xc3\xa9]");
  EXPECT_THAT(error_of("{% break %}"), HasSubstr("'break' outside of a for loop"));
}

TEST(JinjaStatements, ScopingFollowsJinja) {
  // a set inside a loop iteration is gone in the next iteration and after the loop
  EXPECT_EQ(render("{% for i in [1,2] %}{% if i == 1 %}{% set x = 5 %}{% endif %}[{{ x }}]{% endfor %}"), "[5][]");
  EXPECT_EQ(render("{% set x = 1 %}{% for i in [1,2] %}{{ x }}{% set x = 2 %}{{ x }}{% endfor %}{{ x }}"), "12121");
  EXPECT_EQ(render("{% with a = 1 %}{{ a }}{% endwith %}[{{ a }}]"), "1[]");
  // top-level set in an if is visible afterwards
  EXPECT_EQ(msgs("{% if messages[0]['role'] == 'system' %}{% set rest = messages[1:] %}{% else %}{% set rest = messages %}"
                 "{% endif %}{{ rest|length }}"),
            "2");
}

TEST(JinjaStatements, Namespace) {
  EXPECT_EQ(render("{% set ns = namespace(a=1) %}{% for i in range(3) %}{% set ns.a = ns.a + i %}{% endfor %}{{ ns.a }} {{ ns }}"),
            "4 <Namespace {'a': 4}>");
  EXPECT_EQ(render("{% set ns = namespace(items=[]) %}{% for i in range(3) %}{% set ns.items = ns.items + [i] %}{% endfor %}"
                   "{{ ns.items }}"),
            "[0, 1, 2]");
  EXPECT_EQ(msgs("{% set ns = namespace(found=false) %}{% for m in messages %}{% if m.role == 'user' %}"
                 "{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.found }}"),
            "True");
  EXPECT_THAT(error_of("{% set x = 1 %}{% set x.y = 1 %}"), HasSubstr("non-namespace"));
  // a namespace cannot hold a namespace (which could make a cycle)
  EXPECT_THAT(error_of("{% set ns = namespace() %}{% set ns.self = ns %}"), HasSubstr("namespace"));
}

TEST(JinjaStatements, SetForms) {
  EXPECT_EQ(render("{% set a, b = 1, 2 %}{{ a }}{{ b }}"), "12");
  EXPECT_EQ(render("{% set x %}  hi {{ 1 }}\n{% endset %}[{{ x }}]"), "[  hi 1\n]");
  EXPECT_EQ(render("{% set x | upper %}abc{% endset %}{{ x }}"), "ABC");
  EXPECT_EQ(render("{% filter upper %}abc{% endfilter %}"), "ABC");
  EXPECT_EQ(render("{% generation %}kept{% endgeneration %}"), "kept");
  EXPECT_THAT(error_of("{% set a, b = [1] %}"), HasSubstr("cannot unpack"));
}

TEST(JinjaStatements, Macros) {
  EXPECT_EQ(render("{% macro f(a, b=2) %}{{a}}-{{b}}-{{varargs}}-{{kwargs}}{% endmacro %}{{ f(1) }}|{{ f(1,3,4, z=5) }}"),
            "1-2-()-{}|1-3-(4,)-{'z': 5}");
  EXPECT_EQ(render("{% macro greet(name='World') -%}\nHello {{ name }}!\n{%- endmacro %}{{ greet() }} {{ greet(name='Y') }}"),
            "Hello World! Hello Y!");
  EXPECT_EQ(render("{% macro r(n) %}{% if n > 0 %}{{ n }}{{ r(n - 1) }}{% endif %}{% endmacro %}{{ r(5) }}"), "54321");
  EXPECT_EQ(render("{% set x = 1 %}{% macro f() %}{{ x }}{% endmacro %}{% set x = 2 %}{{ f() }}"), "2");
  EXPECT_EQ(render("{% set y = 'outer' %}{% macro m(y) %}{{ y }}{% endmacro %}{{ m('inner') }}{{ y }}"), "innerouter");
  EXPECT_EQ(render("{% macro m() %}[{{ caller(2) }}]{% endmacro %}{% call(x) m() %}c{{ x }}{% endcall %}"), "[c2]");
}

// ---- filters, tests, methods ----

TEST(JinjaFilters, Strings) {
  EXPECT_EQ(render("{{ ' x '|trim }}|{{ 'xxaxx'|trim('x') }}|{{ 'abc'|upper|lower|capitalize }}|{{ 'a b-c(d'|title }}"),
            "x|a|Abc|A B-C(D");
  EXPECT_EQ(render("{{ 'abc'|replace('b','x') }} {{ 123|string + 'x' }} {{ [1]|string }} {{ none|string }}"),
            "axc 123x [1] None");
  EXPECT_EQ(render("{{ 'x\ny'|indent(2) }}|{{ 'x\n\ny\n'|indent(2, true) }}|{{ 'x\n\ny'|indent(2, blank=true) }}"),
            "x\n  y|  x\n\n  y\n|x\n  \n  y");
  EXPECT_EQ(render("{{ '<a & \"b\">'|e }} {{ '<b>'|safe }} {{ 'abc'|center(9) }}|"), "&lt;a &amp; &#34;b&#34;&gt; <b>    abc   |");
  EXPECT_EQ(render("{{ \"%s=%d\"|format('a', 3) }} {{ 'a b c'|wordcount }}"), "a=3 3");
}

TEST(JinjaFilters, Sequences) {
  EXPECT_EQ(render("{{ [1,2]|join(',') }} {{ 'abc'|list }} {{ 'abc'|first }} {{ [1,2]|last }} {{ []|first }}|"),
            "1,2 ['a', 'b', 'c'] a 2 |");
  EXPECT_EQ(render("{{ [3,1,2]|sort }} {{ ['b','A','a']|sort }} {{ [3,1,2]|sort(reverse=true) }} {{ ['B','a','C']|sort(case_sensitive=true) }}"),
            "[1, 2, 3] ['A', 'a', 'b'] [3, 2, 1] ['B', 'C', 'a']");
  EXPECT_EQ(render("{{ ['b','A','a']|unique|list }} {{ [1,2,3]|reverse|list }} {{ 'abc'|reverse }}"), "['b', 'A'] [3, 2, 1] cba");
  EXPECT_EQ(render("{{ [1,2,3]|sum }} {{ [1,2,3]|max }} {{ ['b','a']|min }} {{ [1.5, 2]|sum(start=1) }}"), "6 3 a 4.5");
  EXPECT_EQ(render("{{ [1,2,3]|batch(2)|list }} {{ {'b':1,'a':2}|dictsort }} {{ {'b':1}|items|list }}"),
            "[[1, 2], [3]] [('a', 2), ('b', 1)] [('b', 1)]");
  EXPECT_EQ(render("{{ x|default('d') }}{{ none|default('d') }}{{ ''|default('d', true) }}{{ x|d }}|"), "dNoned|");
  EXPECT_EQ(render("{{ 'hello'|length }} {{ {'a':1}|length }} {{ ''|count }}"), "5 1 0");
}

TEST(JinjaFilters, SelectMapAttr) {
  EXPECT_EQ(msgs("{{ messages|selectattr('role', 'equalto', 'user')|list|length }} {{ messages|map(attribute='role')|join(', ') }}"),
            "1 system, user, assistant");
  EXPECT_EQ(render("{{ [{'n':'b'},{'n':'a'}]|sort(attribute='n')|map(attribute='n')|join }}"), "ab");
  EXPECT_EQ(render("{{ [1,2,3]|select('odd')|list }} {{ [1,2,3]|reject('odd')|list }} {{ ['a','b']|map('upper')|list }} {{ [0,1,'',2]|select|list }}"),
            "[1, 3] [2] ['A', 'B'] [1, 2]");
  EXPECT_EQ(render("{{ [{'a':{'b':1}},{'a':{'b':2}}]|map(attribute='a.b')|list }} {{ [{'a':1},{}]|map(attribute='a', default=0)|list }}"),
            "[1, 2] [1, 0]");
  EXPECT_EQ(render("{{ [{'x':1},{'x':0}]|selectattr('x')|list }} {{ [{'x':1},{'x':0}]|rejectattr('x')|list }} "
                   "{{ [1,2,3]|select('gt', 1)|list }} {{ [1,2,3]|select('in', [1,3])|list }}"),
            "[{'x': 1}] [{'x': 0}] [2, 3] [1, 3]");
}

TEST(JinjaFilters, Numbers) {
  EXPECT_EQ(render("{{ 1.0|int }} {{ '0x1f'|int(base=16) }} {{ '  12  '|int }} {{ -3.7|int }} {{ 'x'|float }} {{ true|int }} "
                   "{{ '3.7'|int }} {{ 'z'|int }} {{ '3'|float }} {{ 7|float }}"),
            "1 31 12 -3 0.0 1 3 0 3.0 7.0");
  EXPECT_EQ(render("{{ 2.675|round(2) }} {{ 1234|round(-2) }} {{ 2.5|round(method='floor') }} {{ -2.5|round }} {{ 3.5|round }} "
                   "{{ 2.5|round }} {{ 2|round }} {{ 3.14159|round(2) }}"),
            "2.67 1200 2.0 -2.0 4.0 2.0 2 3.14");
  EXPECT_EQ(render("{{ 5|abs }} {{ -5.5|abs }}"), "5 5.5");
}

TEST(JinjaFilters, ToJson) {
  EXPECT_EQ(render("{{ {'a':1}|tojson }} {{ {'a':[1,2]}|tojson(indent=2) }}"), "{\"a\": 1} {\n  \"a\": [\n    1,\n    2\n  ]\n}");
  // transformers' tojson does not escape non-ASCII or HTML characters
  EXPECT_EQ(render("{{ '\xc3\xa9\"<>&\\n'|tojson }} {{ '\xf0\x9f\x98\x80'|tojson(ensure_ascii=true) }}"),
            "\"\xc3\xa9\\\"<>&\\n\" \"\\ud83d\\ude00\"");
  EXPECT_EQ(render("{{ range(3)|list|tojson }} {{ (1,2)|tojson }} {{ {'a':none,'b':true,'c':1.5}|tojson(separators=(',',':')) }}"),
            "[0, 1, 2] [1, 2] {\"a\":null,\"b\":true,\"c\":1.5}");
  EXPECT_EQ(render("{{ {'b': 1, 'a': [1,2]}|tojson(indent=2, sort_keys=true) }}"),
            "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": 1\n}");
  EXPECT_EQ(render("{{ {1: 'a', 2.5: 'b', true: 'c', none: 'd'}|tojson }} {{ {'a': []}|tojson(indent=2) }} {{ {}|tojson(indent=2) }}"),
            "{\"1\": \"c\", \"2.5\": \"b\", \"null\": \"d\"} {\n  \"a\": []\n} {}");  // True == 1: one key
  EXPECT_EQ(render("{{ [1.0, 1e20, 1e-7, 0.1]|tojson }}"), "[1.0, 1e+20, 1e-07, 0.1]");
  EXPECT_THAT(error_of("{{ x|tojson }}"), HasSubstr("not JSON serializable"));
}

TEST(JinjaTests, IsTests) {
  EXPECT_EQ(render("{{ x is iterable }} {{ x is sequence }} {{ true is number }} {{ 1 is integer }} {{ true is integer }}"),
            "True True True True False");
  EXPECT_EQ(render("{{ 'test' is string }} {{ 1 is string }} {{ {} is mapping }} {{ [] is mapping }} {{ [] is iterable }} "
                   "{{ 1 is iterable }} {{ 'a' is sequence }}"),
            "True False True False True False True");
  EXPECT_EQ(render("{{ none is none }} {{ 0 is none }} {{ true is true }} {{ 1 is true }} {{ false is false }} {{ 0 is false }} "
                   "{{ true is boolean }} {{ 1 is boolean }}"),
            "True False True False True False True False");
  EXPECT_EQ(render("{{ 3 is odd }} {{ 3 is even }} {{ 1 is eq 1 }} {{ 1 is equalto 2 }} {{ 1 is ne 2 }} {{ 2 is gt 1 }} "
                   "{{ 2 is le 1 }} {{ 1 is divisibleby 3 }} {{ 3 is divisibleby(3) }}"),
            "True False True False True True False False True");
  EXPECT_EQ(render("{{ x is defined }} {{ x is undefined }} {{ x is not none }} {{ 1.0 is float }} {{ 'a' is in 'abc' }} "
                   "{{ range is callable }}"),
            "False True True True True True");
}

TEST(JinjaMethods, StringMethods) {
  EXPECT_EQ(render("{{ 'a,b,,c'.split(',') }} {{ 'a b  c'.split() }} {{ 'a,b,c'.split(',', 1) }} {{ 'a,b,c'.rsplit(',', 1) }} "
                   "{{ '  a b  '.rsplit(None, 1) }} {{ ' a b c '.split(None, 1) }}"),
            "['a', 'b', '', 'c'] ['a', 'b', 'c'] ['a', 'b,c'] ['a,b', 'c'] ['  a', 'b'] ['a', 'b c ']");
  EXPECT_EQ(render("{{ '  a  '.strip() }}|{{ 'xxaxx'.strip('x') }}|{{ '\\n\\na\\n'.lstrip('\\n') }}|{{ 'a\\n\\n'.rstrip() }}|"),
            "a|a|a\n|a|");
  EXPECT_EQ(render("{{ 'abcabc'.find('c') }} {{ 'abcabc'.count('b') }} {{ 'abc'.startswith(('x','a')) }} {{ 'abc'.endswith('bc') }}"),
            "2 2 True True");
  EXPECT_EQ(render("{{ 'hello world'.title() }} {{ 'Hello'.upper() }} {{ 'a-b-c'.replace('-', '+', 1) }} {{ 'abc'.replace('', '-') }}"),
            "Hello World HELLO a+b-c -a-b-c-");
  EXPECT_EQ(render("{{ '{} and {x}'.format(1, x=2) }} {{ '{0}{0}{{}}'.format('z') }} {{ '-'.join(['a', 'b']) }}"),
            "1 and 2 zz{} a-b");
  EXPECT_EQ(render("{% set c = 'a<think>\\nR\\n</think>\\n\\nB' %}{{ c.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') }}"
                   "|{{ c.split('</think>')[-1].lstrip('\\n') }}"),
            "R|B");
  EXPECT_THAT(error_of("{{ 'abc'.nomethod() }}"), HasSubstr("'str.nomethod' is undefined"));
}

TEST(JinjaMethods, DictAndListMethods) {
  EXPECT_EQ(render("{{ {'a':1}.get('a') }}{{ {'a':1}.get('b', 3) }}{{ {'a':1}.get('b') }}"), "13None");
  EXPECT_EQ(render("{{ {'a':1}.keys()|list }} {{ {'a':1}.values()|list }} {{ {'a':1}.items()|list }}"),
            "['a'] [1] [('a', 1)]");
  EXPECT_EQ(render("{{ [1,2,3].index(2) }} {{ [1,1,2].count(1) }} {{ dict(a=1, b='x') }} {{ namespace(a=1).a }}"),
            "1 2 {'a': 1, 'b': 'x'} 1");
  // transformers renders in an immutable sandbox: mutating methods are refused
  EXPECT_THAT(error_of("{% set x = [1] %}{{ x.append(2) }}"), HasSubstr("list.append() is not allowed"));
}

// ---- errors ----

TEST(JinjaErrors, SyntaxErrorsNameLineAndColumn) {
  EXPECT_THAT(error_of("a\nb {{ 1 + }}"), HasSubstr("line 2, column 10"));
  EXPECT_THAT(error_of("{% if true %}"), HasSubstr("unexpected end of template, expected 'elif' or 'else' or 'endif'"));
  EXPECT_THAT(error_of("x\n\n  {% unknown %}"), HasSubstr("line 3, column 6: unknown tag 'unknown'"));
  EXPECT_THAT(error_of("{{ 'unterminated }}"), HasSubstr("unterminated string literal"));
  EXPECT_THAT(error_of("{{ (1 }}"), HasSubstr("unexpected '}', expected ')'"));
  EXPECT_THAT(error_of("{% for x in [1] %}{% endif %}"), HasSubstr("unknown tag 'endif'"));
  EXPECT_THAT(error_of("{% include 'x' %}"), HasSubstr("unsupported tag 'include'"));
  EXPECT_THAT(error_of("{{ 99999999999999999999 }}"), HasSubstr("integer literal too large"));
}

TEST(JinjaErrors, UnknownNamesAreNamed) {
  EXPECT_THAT(error_of("{{ 'abc'|unknownfilter }}"), HasSubstr("unknown filter 'unknownfilter'"));
  EXPECT_THAT(error_of("{{ 1 is unknowntest }}"), HasSubstr("unknown test 'unknowntest'"));
  EXPECT_THAT(error_of("{{ [1]|map('nofilter')|list }}"), HasSubstr("unknown filter 'nofilter'"));
  EXPECT_THAT(error_of("{{ [1]|select('notest')|list }}"), HasSubstr("unknown test 'notest'"));
  EXPECT_THAT(error_of("{{ undefined_fn() }}"), HasSubstr("'undefined_fn' is undefined"));
  EXPECT_THAT(error_of("{{ 1() }}"), HasSubstr("'int' object is not callable"));
  EXPECT_THAT(error_of("{{ 'a'|trim(1, 2) }}"), HasSubstr("trim() takes at most 1 argument(s)"));
  EXPECT_THAT(error_of("{{ 'a'|indent(bogus=1) }}"), HasSubstr("unexpected keyword argument 'bogus'"));
}

TEST(JinjaErrors, RenderErrorsNameTheLine) {
  EXPECT_THAT(error_of("line 1\n{{ 'ok' }}\n{{ raise_exception('Bad role: ' ~ 'x') }}"),
              HasSubstr("chat template error at line 3: Bad role: x"));
}

// ---- limits: a hostile template fails cleanly ----

TEST(JinjaLimits, DeepNestingIsRejected) {
  std::string parens = std::string(5000, '(') + "1" + std::string(5000, ')');
  EXPECT_THAT(error_of("{{ " + parens + " }}"), HasSubstr("nested too deeply"));
  std::string lists = std::string(5000, '[') + std::string(5000, ']');
  EXPECT_THAT(error_of("{{ " + lists + " }}"), HasSubstr("nested too deeply"));
  std::string ifs;
  for (int i = 0; i < 2000; ++i) ifs += "{% if true %}";
  EXPECT_THAT(error_of(ifs), HasSubstr("nested too deeply"));
  std::string chain = "{{ x";
  for (int i = 0; i < 5000; ++i) chain += ".a";
  EXPECT_THAT(error_of(chain + " }}"), HasSubstr("nested too deeply"));
  std::string nots = "{{ " + std::string(5000, '-') + "1 }}";
  EXPECT_THAT(error_of(nots), HasSubstr("nested too deeply"));
}

TEST(JinjaLimits, RunawayRecursionAndLoops) {
  EXPECT_THAT(error_of("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}"), HasSubstr("nested too deeply"));
  Limits small;
  small.max_loop_iterations = 1000;
  EXPECT_THAT(error_of("{% for i in range(100) %}{% for j in range(100) %}{% endfor %}{% endfor %}", {}, small),
              HasSubstr("loop iterations"));
  Limits few_steps;
  few_steps.max_steps = 10000;
  EXPECT_THAT(error_of("{% for i in range(100000) %}{{ i }}{% endfor %}", {}, few_steps), HasSubstr("work limit"));
  EXPECT_THAT(error_of("{{ range(1000000)|length }}"), HasSubstr("range too big"));
}

TEST(JinjaLimits, OutputAndValueSize) {
  Limits small;
  small.max_output_bytes = 1000;
  EXPECT_THAT(error_of("{% for i in range(2000) %}x{% endfor %}", {}, small), HasSubstr("output exceeds"));
  EXPECT_THAT(error_of("{{ 'x' * 2000 }}", {}, small), HasSubstr("exceeds the limit"));
  // exponential growth by doubling
  Limits mib;
  mib.max_output_bytes = 1 << 20;
  mib.max_items = 1 << 16;
  EXPECT_THAT(error_of("{% set ns = namespace(s='ab') %}{% for i in range(100) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}", {}, mib),
              HasSubstr("exceeds the limit"));
  EXPECT_THAT(error_of("{% set ns = namespace(l=[1]) %}{% for i in range(100) %}{% set ns.l = ns.l + ns.l %}{% endfor %}", {}, mib),
              HasSubstr("exceeds the limit"));
  // the same with the default limits
  EXPECT_THAT(error_of("{% set ns = namespace(s='ab') %}{% for i in range(100) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}"),
              HasSubstr("exceeds the limit"));
  // a list nested deeper than values may be
  EXPECT_THAT(error_of("{% set ns = namespace(l=[]) %}{% for i in range(1000) %}{% set ns.l = [ns.l] %}{% endfor %}"),
              HasSubstr("nested deeper"));
  // printing a value shared many times over: repr size is bounded too
  EXPECT_THAT(error_of("{% set ns = namespace(l=[1]) %}{% for i in range(60) %}{% set ns.l = [ns.l, ns.l] %}{% endfor %}{{ ns.l }}"),
              testing::AnyOf(HasSubstr("exceeds the limit"), HasSubstr("work limit")));
}

}  // namespace
