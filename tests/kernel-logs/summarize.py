#!/usr/bin/env python3
"""Summarise the boot logs in this directory as Markdown (used for README.md).

Usage: python3 summarize.py [LOG...]   (default: every *.log here)

For each log it prints the memory-setup figures; for a memblock=debug log it
also groups the memblock reservations that are still held when the buddy
allocator takes over (the "Memory:" line) by what they are, at page
granularity inside the present RAM ranges, and checks the sum against the
"reserved" figure of the Memory: line.
"""
import glob
import os
import re
import sys

TS = re.compile(r'^\[\s*\d+\.\d+\] ')
RANGE = re.compile(r'\[(?:mem )?(0x[0-9a-f]+)-(0x[0-9a-f]+)\]')


def strip(line):
    return TS.sub('', line.rstrip('\n'))


def caller(line):
    m = re.search(r' ([A-Za-z_][A-Za-z0-9_.]*)\+0x[0-9a-f]+/0x[0-9a-f]+$', line)
    return m.group(1).split('.')[0] if m else '?'


# What a reservation is, by the function that made it (kernel 6.1 names).
GROUPS = [
    ('memmap (struct page array)', ('memmap_alloc', 'sparse_init_nid', 'sparse_init',
                                    'sparse_index_alloc', 'vmemmap_alloc_block_zero',
                                    'sparse_buffer_init', '__earlyonly_bootmem_alloc')),
    ('pageblock flags (usemap)', ('setup_usemap',)),
    ('page tables (direct map, fixmap)', ('alloc_low_pages', 'init_mem_mapping', 'spp_getpage',
                                         'one_page_table_init', 'one_md_table_init',
                                         'page_table_range_init', 'alloc_low_page')),
    ('percpu first chunk', ('pcpu_',)),
    ('dentry/inode hash tables', ('alloc_large_system_hash',)),
    ('swiotlb bounce buffer', ('swiotlb_',)),
    ('first 1 MiB / real-mode trampoline', ('reserve_real_mode',)),
    ('node data', ('alloc_node_data',)),
    ('MP table', ('smp_scan_config',)),
]


def group_of(fn, start):
    for name, prefixes in GROUPS:
        if any(fn.startswith(p) for p in prefixes):
            return name
    if fn == 'setup_arch':
        return 'first 1 MiB / real-mode trampoline' if start == 0 else 'brk: early page tables (reserve_brk)'
    if fn.startswith('acpi_'):
        return 'ACPI tables'
    return 'other small early allocations'


def early_group(start, end):
    if start == 0:
        return 'low 64 KiB (early_reserve_memory)'
    if start < 0x100000:
        return 'BIOS/EBDA area below 1 MiB'
    if start >= 0x1000000 and start < 0x10000000:
        return 'kernel image (_text.._end incl. brk)'
    return 'early (before memblock=debug)'


def parse(path):
    lines = [strip(line) for line in open(path, errors='replace')]
    info = {'cmd': lines[0][2:] if lines[0].startswith('# ') else '', 'lines': lines}
    return info


def grab(lines, pat):
    return [l for l in lines if re.search(pat, l)]


def memblock_groups(lines):
    """Return ({group: pages}, present_pages) at the Memory: line."""
    memory = []
    held = []  # [first byte, last byte, group], in reservation order
    pending = None
    in_dump = None
    mem_end = None
    for l in lines:
        if l.startswith('Memory:'):
            break
        s = l.strip()
        if s.startswith('MEMBLOCK configuration'):
            in_dump = 'start'
            continue
        if in_dump:
            m = re.match(r'(memory|reserved)\[0x[0-9a-f]+\]\s+\[(0x[0-9a-f]+)-(0x[0-9a-f]+)\]', s)
            if m:
                a, b = int(m.group(2), 16), int(m.group(3), 16)
                if m.group(1) == 'memory':
                    if in_dump == 'start':
                        memory = []
                        in_dump = 'memory'
                    memory.append((a, b))
                else:
                    held.append([a, b, early_group(a, b)])
                continue
            if s.startswith(('memory', 'reserved')):
                continue
            in_dump = None
        m = RANGE.search(l)
        if l.startswith('memblock_add:') and m:
            memory.append((int(m.group(1), 16), int(m.group(2), 16)))
        elif l.startswith(('memblock_alloc', 'memblock_phys_alloc')):
            pending = caller(l)
        elif l.startswith('memblock_reserve:') and m:
            a, b = int(m.group(1), 16), int(m.group(2), 16)
            fn = caller(l)
            if fn == 'memblock_alloc_range_nid' and pending:
                fn = pending
            held.append([a, b, group_of(fn, a)])
        elif l.startswith(('memblock_phys_free:', 'memblock_free:')) and m:
            a, b = int(m.group(1), 16), int(m.group(2), 16)
            if b < a:
                continue
            # memblock keeps byte ranges: cut [a, b] out of every held range.
            kept = []
            for ra, rb, g in held:
                if rb < a or ra > b:
                    kept.append([ra, rb, g])
                    continue
                if ra < a:
                    kept.append([ra, a - 1, g])
                if rb > b:
                    kept.append([b + 1, rb, g])
            held = kept
        elif l.startswith('e820: remove') and m and m.group(2) == '0xfffffffffffffffe':
            mem_end = int(m.group(1), 16)
    present = set()
    for a, b in memory:
        if mem_end is not None:
            b = min(b, mem_end - 1)
        lo, hi = (a + 0xfff) >> 12, (b + 1) >> 12
        present.update(range(lo, hi))
    # A page is reserved if any byte of it is; it belongs to the first
    # reservation that touched it.
    owner = {}
    for a, b, g in held:
        for pfn in range(a >> 12, (b >> 12) + 1):
            owner.setdefault(pfn, g)
    groups = {}
    for pfn, g in owner.items():
        if pfn in present:
            groups[g] = groups.get(g, 0) + 1
    return groups, len(present)


def summarize(path):
    info = parse(path)
    L = info['lines']
    name = os.path.basename(path)
    out = ['### %s' % name, '', '`%s`' % info['cmd'], '', '```']
    pats = [r'^BIOS-e820:', r'^e820: remove \[mem 0x[0-9a-f]{6,}', r'^user:', r'^last_pfn',
            r'Warning', r'only \d+MB', r'MB HIGHMEM available', r'MB LOWMEM available',
            r'low ram:', r'^Zone ranges', r'^  (DMA|DMA32|Normal|HighMem|Movable) ',
            r'^Early memory node', r'^  node ', r'^On node', r'^Initmem', r'^setup_percpu',
            r'^percpu:', r'^Built \d+ zonelist', r'hash table entries: .*(Dentry|Inode)|^(Dentry|Inode)-cache',
            r'^Initializing (HighMem|Movable)', r'^Memory:', r'^SLUB:', r'software IO TLB',
            r'Freeing', r'deferred pages', r'min_free', r'^HugeTLB: registered',
            r'^Kernel/User page tables', r'^NX|NX \(', r'^bounce:', r'^workingset:']
    for l in L[1:]:
        if any(re.search(p, l) for p in pats):
            out.append(l)
    out.append('```')
    if 'memblock=debug' in info['cmd']:
        groups, npresent = memblock_groups(L)
        memline = next((l for l in L if l.startswith('Memory:')), '')
        m = re.search(r'/(\d+)K available.* (\d+)K reserved', memline)
        out += ['', 'memblock reservations held at the `Memory:` line (pages inside present RAM):', '',
                '| what | pages | KiB |', '|---|---:|---:|']
        tot = 0
        for g, n in sorted(groups.items(), key=lambda kv: -kv[1]):
            out.append('| %s | %d | %d |' % (g, n, n * 4))
            tot += n
        out.append('| **total** | **%d** | **%d** |' % (tot, tot * 4))
        if m:
            ok = npresent * 4 == int(m.group(1)) and tot * 4 == int(m.group(2))
            out += ['', 'present pages from memblock.memory: %d (%dK; Memory: line says %sK); '
                    'Memory: line reserved = %sK: %s' % (npresent, npresent * 4, m.group(1), m.group(2),
                                                        'MATCH' if ok else 'MISMATCH')]
    out.append('')
    return '\n'.join(out)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    logs = sys.argv[1:] or sorted(glob.glob(os.path.join(here, '*.log')))
    for p in logs:
        print(summarize(p))


if __name__ == '__main__':
    main()
