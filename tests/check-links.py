#!/usr/bin/python3
"""Checks every relative link in the project's Markdown files (the README, the handbook in
docs/handbook/, benchmarks/*.md): the file it names exists, and a #fragment names a heading
of that file (GitHub's anchors: lower case, punctuation dropped, spaces to hyphens, -1, -2
for repeats). Web links are not fetched. Exit 0 when every link resolves, 1 with one line
per broken link (FILE:LINE: LINK: reason), 2 on bad usage.

    tests/check-links.py SOURCE_DIR
"""
import os
import re
import sys

LINK = re.compile(r'!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(([^)\s]+)(?:\s+"[^"]*")?\)')
HEADING = re.compile(r'^(#{1,6})\s+(.*?)\s*#*\s*$')
SKIP_DIRS = {'.git', 'node_modules'}


def outside_fences(lines):
    """Yields (number, line) for the lines outside fenced code blocks."""
    fence = None
    for number, line in enumerate(lines, 1):
        stripped = line.lstrip()
        if fence:
            if stripped.startswith(fence):
                fence = None
            continue
        if stripped.startswith('```') or stripped.startswith('~~~'):
            fence = stripped[:3]
            continue
        yield number, line


def strip_code(lines):
    """Yields (number, line) outside fenced code blocks, with inline code spans blanked."""
    for number, line in outside_fences(lines):
        yield number, re.sub(r'`[^`]*`', lambda m: ' ' * len(m.group(0)), line)


def slug(title):
    title = re.sub(r'!?\[([^\]]*)\]\([^)]*\)', r'\1', title)  # a link's text only
    title = title.strip().lower()
    title = re.sub(r'[^\w\- ]', '', title)
    return title.replace(' ', '-')


def anchors(path, cache={}):
    if path not in cache:
        seen = {}
        found = set()
        with open(path, encoding='utf-8') as f:
            lines = f.read().split('\n')
        for _, line in outside_fences(lines):
            m = HEADING.match(line)
            if m:
                base = slug(m.group(2).replace('`', ''))
                n = seen.get(base, 0)
                seen[base] = n + 1
                found.add(base if n == 0 else '%s-%d' % (base, n))
        cache[path] = found
    return cache[path]


def markdown_files(root):
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and
                         not os.path.exists(os.path.join(directory, d, 'CMakeCache.txt')))
        for name in sorted(files):
            if name.endswith('.md'):
                yield os.path.join(directory, name)


def main(argv):
    if len(argv) != 2 or not os.path.isdir(argv[1]):
        print('usage: check-links.py SOURCE_DIR', file=sys.stderr)
        return 2
    root = os.path.abspath(argv[1])
    broken = []
    checked = 0
    files = list(markdown_files(root))
    for path in files:
        with open(path, encoding='utf-8') as f:
            lines = f.read().split('\n')
        for number, line in strip_code(lines):
            for m in LINK.finditer(line):
                target = m.group(1)
                if re.match(r'^[a-z][a-z0-9+.-]*:', target):  # https:, mailto:, ...
                    continue
                checked += 1
                where = '%s:%d: %s' % (os.path.relpath(path, root), number, target)
                file_part, _, fragment = target.partition('#')
                dest = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) if file_part else path
                if not dest.startswith(root + os.sep) and dest != root:
                    broken.append(where + ': points outside the project')
                elif not os.path.exists(dest):
                    broken.append(where + ': no such file ' + os.path.relpath(dest, root))
                elif fragment:
                    if not dest.endswith('.md'):
                        broken.append(where + ': a #fragment on a file that is not Markdown')
                    elif fragment not in anchors(dest):
                        broken.append(where + ': no heading #%s in %s' % (fragment, os.path.relpath(dest, root)))
    for line in broken:
        print(line)
    print('%d Markdown files, %d relative links, %d broken' % (len(files), checked, len(broken)))
    return 1 if broken else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
