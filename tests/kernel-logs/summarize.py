#!/usr/bin/env python3
"""Summarise the boot logs in this directory as Markdown (used for README.md).

Usage: python3 summarize.py [LOG...]   (default: every *.log here)
       python3 summarize.py --tables [LOG...]   (one-line-per-boot tables)
       python3 summarize.py --proc [LOG...]     (tables from the -proc logs' /proc dumps)
       python3 summarize.py --memblock [LOG...] (reservation groups x memblock=debug boots)
       python3 summarize.py --facts > facts.tsv  (boot TAB key TAB value, for tests)

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


SHORT = {
    'memmap (struct page array)': 'memmap',
    'pageblock flags (usemap)': 'usemap',
    'page tables (direct map, fixmap)': 'page_tables',
    'percpu first chunk': 'percpu',
    'dentry/inode hash tables': 'hash_tables',
    'swiotlb bounce buffer': 'swiotlb',
    'first 1 MiB / real-mode trampoline': 'first_1mib',
    'node data': 'node_data',
    'MP table': 'mp_table',
    'brk: early page tables (reserve_brk)': 'brk',
    'ACPI tables': 'acpi',
    'other small early allocations': 'other',
    'low 64 KiB (early_reserve_memory)': 'low_64k',
    'BIOS/EBDA area below 1 MiB': 'bios_ebda',
    'kernel image (_text.._end incl. brk)': 'kernel_image',
    'early (before memblock=debug)': 'early_other',
}


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
        # [_text, _end); the used brk inside it was reserved (and labelled) first.
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
    for idx, l in enumerate(lines):
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
            if fn == 'memblock_alloc_range_nid':
                # The allocation call printed just before names the user;
                # memblock_phys_alloc_try_nid (NODE_DATA) prints none.
                fn = pending or '?'
                if idx + 1 < len(lines) and lines[idx + 1].startswith('NODE_DATA('):
                    fn = 'alloc_node_data'
            pending = None
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




# ---- Compact tables (python3 summarize.py --tables) ----

ZONE_LINE = re.compile(r'^  (DMA|DMA32|Normal|HighMem)\s+(?:\[mem (0x[0-9a-f]+)-(0x[0-9a-f]+)\]|empty)')
NODE_LINE = re.compile(r'^  node\s+\d+: \[mem (0x[0-9a-f]+)-(0x[0-9a-f]+)\]')


def struct_page_size(flavour):
    # Measured: memblock=debug memmap_alloc bytes / node pages (see README).
    return 64 if flavour == 'amd64' else 40


def zones(lines, flavour):
    """Per-zone spanned/present/memmap pages as the kernel computes them."""
    zl, nodes = [], []
    for l in lines:
        m = ZONE_LINE.match(l)
        if m and m.group(2):
            zl.append((m.group(1), int(m.group(2), 16) >> 12, (int(m.group(3), 16) + 1) >> 12))
        m = NODE_LINE.match(l)
        if m:
            nodes.append((int(m.group(1), 16) >> 12, (int(m.group(2), 16) + 1) >> 12))
    if not nodes:
        return []
    nstart, nend = nodes[0][0], nodes[-1][1]
    out = []
    for name, zs, ze in zl:
        zs, ze = max(zs, nstart), min(ze, nend)
        spanned = max(0, ze - zs)
        present = sum(max(0, min(b, ze) - max(a, zs)) for a, b in nodes)
        # mm/page_alloc.c calc_memmap_size(): spanned pages, or present pages
        # when SPARSEMEM and the zone has big holes.
        pages = spanned
        if flavour == 'amd64' and spanned > present + (present >> 4):
            pages = present
        memmap = (pages * struct_page_size(flavour) + 4095) >> 12
        out.append((name, spanned, present, memmap, zs, ze))
    return out


def first(lines, pat, group=0):
    for l in lines:
        m = re.search(pat, l)
        if m:
            return m.group(group)
    return ''


def tables(paths):
    rows, zrows = [], []
    for p in paths:
        name = os.path.basename(p)[:-4]
        if name.endswith(('-debug', '-proc')):
            continue
        L = parse(p)['lines']
        flav = 'amd64' if name.startswith('amd64') else ('686-pae' if name.startswith('686-pae') else '686')
        mem = re.search(r'Memory: (\d+)K/(\d+)K available \((\d+)K kernel code, (\d+)K rwdata, (\d+)K rodata, '
                        r'(\d+)K init, (\d+)K bss, (\d+)K reserved, (\d+)K cma-reserved(?:, (\d+)K highmem)?',
                        first(L, r'^Memory:.*'))
        total = int(first(L, r'Total pages: (\d+)', 1))
        z = zones(L, flav)
        lowmem_zones = [t for t in z if t[0] != 'HighMem']
        expect = (sum(t[2] - t[3] for t in lowmem_zones) +
                  sum(t[2] for t in z if t[0] == 'HighMem'))
        rows.append('| %s | %s | %s | %s | %s | %s | %s | %s | %s |' % (
            name, mem.group(1), mem.group(2), mem.group(8), mem.group(10) or '-',
            first(L, r'(\d+)MB LOWMEM', 1) or '-', first(L, r'(\d+)MB HIGHMEM', 1) or '-',
            first(L, r'^  low ram: (.*)', 1) or '-', total))
        for zn, sp, pr, mm, zs, ze in z:
            zrows.append('| %s | %s | %#x-%#x | %d | %d | %d |' % (name, zn, zs, ze, sp, pr, mm))
        zrows.append('| %s | Total pages: computed %d, printed %d (difference %d = x86_64 dma_reserve) | | | | |'
                     % (name, expect, total, expect - total) if expect != total else
                     '| %s | Total pages: computed %d = printed %d | | | | |' % (name, expect, total))
    print('| boot | available K | present K | reserved K | highmem K | LOWMEM MB | HIGHMEM MB | low ram | Total pages |')
    print('|---|---:|---:|---:|---:|---:|---:|---|---:|')
    print('\n'.join(rows))
    print()
    print('| boot | zone | pfn range [start-end) | spanned | present | memmap pages (computed) |')
    print('|---|---|---|---:|---:|---:|')
    print('\n'.join(zrows))


def proc_tables(paths):
    """Figures from the /proc dumps of the -proc logs."""
    g, z = [], []
    for p in paths:
        name = os.path.basename(p)[:-4]
        if not name.endswith('-proc'):
            continue
        L = parse(p)['lines']
        kv = {}
        for l in L:
            m = re.match(r'^(MemTotal|MemFree|HighTotal|LowTotal|VmallocTotal|CommitLimit|Percpu):\s+(\d+) kB', l)
            if m:
                kv[m.group(1)] = m.group(2)
            m = re.match(r'^vm\.(\w+) = (.*)', l)
            if m:
                kv[m.group(1)] = m.group(2).replace('\t', ' ')
        thp = first(L, r'^(always|madvise|never).*\[(\w+)\]', 2) if any(
            'transparent_hugepage/enabled' in l for l in L) else ''
        i = next((k for k, l in enumerate(L) if 'transparent_hugepage/enabled' in l), None)
        if i is not None:
            thp = re.search(r'\[(\w+)\]', L[i + 1]).group(1)
        free = '; '.join(re.sub(r' memory', '', l.split('Freeing ', 1)[1]) for l in L if 'Freeing ' in l)
        g.append('| %s | %s | %s | %s | %s | %s | %s | %s | %s |' % (
            name[:-5], kv.get('MemTotal', ''), kv.get('LowTotal', ''), kv.get('HighTotal', '-'),
            kv.get('VmallocTotal', ''), kv.get('min_free_kbytes', ''), kv.get('lowmem_reserve_ratio', ''),
            thp, free))
        zone = None
        rec = {}
        for l in L:
            m = re.match(r'^Node \d+, zone\s+(\w+)$', l)
            if m:
                if zone and rec.get('spanned', '0') != '0':
                    z.append((name[:-5], zone, rec))
                zone, rec = m.group(1), {}
                continue
            if zone is None:
                continue
            m = re.match(r'^\s+(min|low|high|spanned|present|managed)\s+(\d+)$', l)
            if m:
                rec[m.group(1)] = m.group(2)
            m = re.match(r'^\s+protection: \((.*)\)', l)
            if m:
                rec['protection'] = m.group(1)
            m = re.match(r'^\s+(high|batch):\s+(\d+)$', l)
            if m and 'pcp_' + m.group(1) not in rec:
                rec['pcp_' + m.group(1)] = m.group(2)
            if l.startswith('=== /proc/buddyinfo'):
                break
        if zone and rec.get('spanned', '0') != '0':
            z.append((name[:-5], zone, rec))
    print('| boot | MemTotal kB | LowTotal kB | HighTotal kB | VmallocTotal kB | min_free_kbytes | lowmem_reserve_ratio | THP | Freeing lines |')
    print('|---|---:|---:|---:|---:|---:|---|---|---|')
    print('\n'.join(g))
    print()
    print('| boot | zone | spanned | present | managed | min | low | high | protection | pcp high | pcp batch |')
    print('|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|')
    for b, zn, r in z:
        print('| %s | %s | %s | %s | %s | %s | %s | %s | (%s) | %s | %s |' % (
            b, zn, r.get('spanned'), r.get('present'), r.get('managed'), r.get('min'), r.get('low'),
            r.get('high'), r.get('protection'), r.get('pcp_high'), r.get('pcp_batch')))


def memblock_matrix(paths):
    """One row per reservation group, one column per memblock=debug boot (KiB)."""
    cols, data, checks = [], {}, []
    for p in paths:
        name = os.path.basename(p)[:-4]
        if not name.endswith('-debug'):
            continue
        L = parse(p)['lines']
        groups, npresent = memblock_groups(L)
        b = name[:-6]
        cols.append(b)
        for g, n in groups.items():
            data.setdefault(g, {})[b] = n * 4
        m = re.search(r'/(\d+)K available.* (\d+)K reserved', first(L, r'^Memory:.*'))
        tot = sum(groups.values()) * 4
        checks.append((b, tot, int(m.group(2)), npresent * 4 == int(m.group(1))))
    order = sorted(data, key=lambda g: -max(data[g].values()))
    print('| reservation (KiB) | ' + ' | '.join(cols) + ' |')
    print('|---|' + '---:|' * len(cols))
    for g in order:
        print('| %s | ' % g + ' | '.join(str(data[g].get(c, 0)) for c in cols) + ' |')
    print('| **sum** | ' + ' | '.join('**%d**' % t for _, t, _, _ in checks) + ' |')
    print('| Memory: line reserved | ' + ' | '.join('%d%s' % (r, '' if t == r and ok else ' (MISMATCH)')
                                                 for _, t, r, ok in checks) + ' |')


def facts(paths):
    """boot<TAB>key<TAB>value lines: every figure of the tables, machine-readable."""
    out = []
    for p in paths:
        name = os.path.basename(p)[:-4]
        if name.endswith(('-debug', '-proc')):
            continue
        L = parse(p)['lines']
        flav = 'amd64' if name.startswith('amd64') else ('686-pae' if name.startswith('686-pae') else '686')

        def put(k, v):
            out.append('%s\t%s\t%s' % (name, k, v))
        put('flavour', flav)
        put('cmdline', first(L, r'^Kernel command line: (.*)', 1))
        for l in L:
            m = re.match(r'^(BIOS-e820|user): \[mem (0x[0-9a-f]+)-(0x[0-9a-f]+)\] (\w+)', l)
            if m:
                put('e820' if m.group(1) == 'BIOS-e820' else 'e820_user',
                    '%s %s %s' % (m.group(2), m.group(3), m.group(4)))
            m = NODE_LINE.match(l)
            if m:
                put('node_range', '%s %s' % (m.group(1), m.group(2)))
        put('last_pfn', first(L, r'last_pfn = (0x[0-9a-f]+)', 1))
        put('max_arch_pfn', first(L, r'max_arch_pfn = (0x[0-9a-f]+)', 1))
        for k, pat in (('lowmem_mb', r'(\d+)MB LOWMEM'), ('highmem_mb', r'(\d+)MB HIGHMEM'),
                       ('low_ram_end', r'^  low ram: 0 - ([0-9a-f]+)'),
                       ('total_pages', r'Total pages: (\d+)')):
            v = first(L, pat, 1)
            if v:
                put(k, v)
        mem = re.search(r'Memory: (\d+)K/(\d+)K available \((\d+)K kernel code, (\d+)K rwdata, (\d+)K rodata, '
                        r'(\d+)K init, (\d+)K bss, (\d+)K reserved, (\d+)K cma-reserved(?:, (\d+)K highmem)?',
                        first(L, r'^Memory:.*'))
        for i, k in enumerate(('available_k', 'present_k', 'code_k', 'rwdata_k', 'rodata_k', 'init_k',
                               'bss_k', 'reserved_k', 'cma_reserved_k', 'highmem_k'), 1):
            if mem.group(i) is not None:
                put(k, mem.group(i))
        for zn, sp, pr, mm, zs, ze in zones(L, flav):
            put('zone', '%s start_pfn=%d end_pfn=%d spanned=%d present=%d memmap=%d' % (zn, zs, ze, sp, pr, mm))
        for p2 in (p[:-4] + '-debug.log',):
            if os.path.exists(p2):
                groups, _ = memblock_groups(parse(p2)['lines'])
                for g, n in sorted(groups.items()):
                    put('memblock_reserved_pages', '%s=%d' % (SHORT[g], n))
        p3 = p[:-4] + '-proc.log'
        if os.path.exists(p3):
            L3 = parse(p3)['lines']
            for l in L3:
                m = re.match(r'^vm\.(min_free_kbytes|lowmem_reserve_ratio|watermark_scale_factor) = (.*)', l)
                if m:
                    put('proc_' + m.group(1), m.group(2).replace('\t', ' '))
                m = re.match(r'^(MemTotal|LowTotal|HighTotal|VmallocTotal):\s+(\d+) kB', l)
                if m:
                    put('proc_' + m.group(1) + '_kb', m.group(2))
            zone, rec = None, {}
            for l in L3 + ['Node 0, zone END']:
                m = re.match(r'^Node \d+, zone\s+(\w+)$', l)
                if m:
                    if zone and rec.get('spanned', '0') != '0':
                        put('proc_zone', zone + ' ' + ' '.join('%s=%s' % kv for kv in rec.items()))
                    zone, rec = m.group(1), {}
                    continue
                if zone is None:
                    continue
                m = re.match(r'^\s+(min|low|high|spanned|present|managed)\s+(\d+)$', l)
                if m:
                    rec[m.group(1)] = m.group(2)
                m = re.match(r'^\s+protection: \((.*)\)', l)
                if m:
                    rec['protection'] = m.group(1).replace(' ', '')
                if l.startswith('=== /proc/buddyinfo'):
                    zone = None
    print('\n'.join(out))


if __name__ == '__main__':
    if sys.argv[1:2] == ['--tables']:
        here = os.path.dirname(os.path.abspath(__file__))
        tables(sys.argv[2:] or sorted(glob.glob(os.path.join(here, '*.log'))))
    elif sys.argv[1:2] == ['--facts']:
        here = os.path.dirname(os.path.abspath(__file__))
        facts(sys.argv[2:] or sorted(glob.glob(os.path.join(here, '*.log'))))
    elif sys.argv[1:2] == ['--memblock']:
        here = os.path.dirname(os.path.abspath(__file__))
        memblock_matrix(sys.argv[2:] or sorted(glob.glob(os.path.join(here, '*-debug.log'))))
    elif sys.argv[1:2] == ['--proc']:
        here = os.path.dirname(os.path.abspath(__file__))
        proc_tables(sys.argv[2:] or sorted(glob.glob(os.path.join(here, '*-proc.log'))))
    else:
        main()
