#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""The YNL spec against the kernel's schema and against the real uAPI header.

  check_spec.py schema SCHEMA SPEC
      every jsonschema error of SPEC against SCHEMA (the kernel's
      Documentation/netlink/genetlink-c.yaml), then their count; exit 1 if any

  check_spec.py agree GENERATED_H REAL_H
      the header ynl-gen-c.py --mode uapi renders from the spec and
      kmod/include/uapi/linux/iopf_testbed.h must name the same IOPF_*
      constants with the same values (compiled, so C decides the values);
      exit 1 on any difference. A constant added to the header but not to
      the spec (a new attribute, counter, command) is reported by name.

Run by scripts/ynl.sh check with Debian's python3-yaml and python3-jsonschema.
"""
import os
import re
import subprocess
import sys
import tempfile

import jsonschema
import yaml

# In the real header, not expressible in a spec YNL renders the same way
KNOWN_ONLY_IN_HEADER = {
    'IOPF_CMD_UNSPEC': 'YNL numbers the command enum from the first operation',
    'IOPF_REPORT_ALL': 'YNL would name a flags mask IOPF_REPORT_MASK',
    'IOPF_PERM_ALL': 'YNL would name a flags mask IOPF_PERM_MASK',
    # /dev/iopf_testbed's ioctls (upstream's road): not netlink
    'IOPF_BRIDGE_IOC_MAGIC': 'an ioctl of /dev/iopf_testbed, not netlink',
    'IOPF_BRIDGE_BIND': 'an ioctl of /dev/iopf_testbed, not netlink',
    'IOPF_BRIDGE_ATTACH': 'an ioctl of /dev/iopf_testbed, not netlink',
    'IOPF_BRIDGE_DETACH': 'an ioctl of /dev/iopf_testbed, not netlink',
    'IOPF_BRIDGE_UNBIND': 'an ioctl of /dev/iopf_testbed, not netlink',
}


def schema_errors(schema_path, spec_path):
    with open(schema_path) as f:
        schema = yaml.safe_load(f)
    with open(spec_path) as f:
        spec = yaml.safe_load(f)
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(spec), key=lambda e: list(e.absolute_path))
    for e in errors:
        where = '/'.join(str(p) for p in e.absolute_path) or '(top)'
        print(f'{spec_path}: {where}: {e.message}')
    print(f'{len(errors)} schema errors against {schema_path}')
    return len(errors)


def names(header):
    with open(header) as f:
        text = f.read()
    text = re.sub(r'/\*.*?\*/', '', text, flags=re.S)
    return set(re.findall(r'\b_*IOPF_[A-Z0-9_]+\b', text))


def values(header, idents, workdir):
    """name -> value as C sees it, from a program compiled against header"""
    src = os.path.join(workdir, 'values.c')
    exe = os.path.join(workdir, 'values')
    with open(src, 'w') as f:
        f.write('#include <stdio.h>\n'
                'static void s(const char *n, const char *v) { printf("%s \\"%s\\"\\n", n, v); }\n'
                'static void i(const char *n, long long v) { printf("%s %lld\\n", n, v); }\n'
                '#define P(x) _Generic((x), char *: s, const char *: s, default: i)(#x, x)\n'
                'int main(void)\n{\n')
        for n in sorted(idents):
            f.write(f'\tP({n});\n')
        f.write('\treturn 0;\n}\n')
    subprocess.run(['gcc', '-std=gnu11', '-Wall', '-Werror', '-include', header,
                    '-o', exe, src], check=True)
    out = subprocess.run([exe], check=True, capture_output=True, text=True).stdout
    return dict(line.split(' ', 1) for line in out.splitlines())


def agree(generated, real):
    gen, hdr = names(generated), names(real)
    bad = 0
    for n in sorted(hdr - gen):
        if n in KNOWN_ONLY_IN_HEADER:
            print(f'# {n}: only in the header, as expected ({KNOWN_ONLY_IN_HEADER[n]})')
        else:
            print(f'{real}: {n} is not in the spec')
            bad += 1
    for n in sorted(gen - hdr):
        print(f'{generated}: {n} (from the spec) is not in {real}')
        bad += 1
    common = gen & hdr
    with tempfile.TemporaryDirectory() as tmp:
        gv = values(os.path.abspath(generated), common, tmp)
        hv = values(os.path.abspath(real), common, tmp)
    for n in sorted(common):
        if gv[n] != hv[n]:
            print(f'{n}: the spec says {gv[n]}, {real} says {hv[n]}')
            bad += 1
    print(f'{len(common)} constants agree' if not bad else f'{bad} differences')
    return bad


def main():
    if len(sys.argv) == 4 and sys.argv[1] == 'schema':
        return 1 if schema_errors(sys.argv[2], sys.argv[3]) else 0
    if len(sys.argv) == 4 and sys.argv[1] == 'agree':
        return 1 if agree(sys.argv[2], sys.argv[3]) else 0
    print(__doc__.strip(), file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main())
