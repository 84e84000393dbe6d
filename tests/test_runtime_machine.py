"""The machine read at run time: the data caches (csrc/cache.c, from a sysfs folder, CPUID
or defaults), the matrix product's blocks derived from them (worked out by hand below),
and `fastmlp.runtime.machine()` with what `fastmlp info` prints of it."""
import platform
from pathlib import Path

import pytest

from fastmlp import _kernels, _machine, _testing, runtime
from fastmlp.cli import main

SYSFS = Path("/sys/devices/system/cpu/cpu0/cache")
KIB, MIB = 1 << 10, 1 << 20


def write_sysfs(folder, caches):
    """A folder laid out as Linux's cpu0/cache: index<i>/<field> for each dict of fields."""
    for i, fields in enumerate(caches):
        index = folder / f"index{i}"
        index.mkdir()
        for name, value in fields.items():
            (index / name).write_text(f"{value}\n")


def cache(level, type_, size, ways=8, cpus="0"):
    return dict(level=level, type=type_, size=size, ways_of_associativity=ways,
                coherency_line_size=64, shared_cpu_list=cpus)


def test_caches_are_read_from_a_sysfs_folder(tmp_path):
    write_sysfs(tmp_path, [cache(1, "Data", "48K", 12), cache(1, "Instruction", "32K"),
                           cache(2, "Unified", "2048K", 16, "0-1"),
                           cache(3, "Unified", "32768K", 11, "0-3,8-11")])
    got = _machine.read_caches(tmp_path, cpuid=False)
    assert got == {
        "l1d": dict(bytes=48 * KIB, ways=12, line=64, sharing=1, source="sysfs"),
        "l2": dict(bytes=2 * MIB, ways=16, line=64, sharing=2, source="sysfs"),
        "l3": dict(bytes=32 * MIB, ways=11, line=64, sharing=8, source="sysfs"),
    }


def test_levels_nobody_reports_get_the_defaults(tmp_path):
    """No L3 and an unreadable L2 size in the folder, no CPUID: 512 KiB and 8 MiB."""
    write_sysfs(tmp_path, [cache(1, "Data", "32K", 0), cache(2, "Unified", "big")])
    got = _machine.read_caches(tmp_path, cpuid=False)
    assert got["l1d"] == dict(bytes=32 * KIB, ways=8, line=64, sharing=1, source="sysfs")
    assert got["l2"] == dict(bytes=512 * KIB, ways=8, line=64, sharing=1, source="default")
    assert got["l3"] == dict(bytes=8 * MIB, ways=8, line=64, sharing=1, source="default")
    nothing = _machine.read_caches(tmp_path / "absent", cpuid=False)
    assert [nothing[k]["bytes"] for k in _machine.LEVELS] == [32 * KIB, 512 * KIB, 8 * MIB]
    assert {c["source"] for c in nothing.values()} == {"default"}


@pytest.mark.skipif(not SYSFS.is_dir(), reason="needs Linux's /sys/devices/system/cpu")
def test_the_kernels_use_this_machines_sysfs_caches():
    """What the kernels use is what the folder says, read here again in Python."""
    expected = {}
    for index in sorted(SYSFS.glob("index*")):
        level, kind = int((index / "level").read_text()), (index / "type").read_text().strip()
        name = {(1, "Data"): "l1d", (2, "Unified"): "l2", (3, "Unified"): "l3"}.get((level, kind))
        size = (index / "size").read_text().strip()
        if name and name not in expected:
            expected[name] = int(size[:-1]) * {"K": KIB, "M": MIB}[size[-1]]
    got = _machine.caches()
    assert {name: got[name]["bytes"] for name in expected} == expected
    assert all(got[name]["source"] == "sysfs" for name in expected)


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64") or not SYSFS.is_dir(),
                    reason="CPUID against sysfs: x86-64 Linux")
def test_cpuid_reports_what_sysfs_reports():
    """Linux fills its cache folder from the same CPUID leaves (4 on Intel, 0x8000001D on
    AMD), so where both answer they agree."""
    from_cpuid, from_sysfs = _machine.read_caches(None, cpuid=True), _machine.caches()
    answered = [k for k in _machine.LEVELS if from_cpuid[k]["source"] == "cpuid"
                and from_sysfs[k]["source"] == "sysfs"]
    if not answered:
        pytest.skip("CPUID reports no caches here")
    for k in answered:
        for field in ("bytes", "ways", "line"):
            assert from_cpuid[k][field] == from_sysfs[k][field], (k, field)


def level(size, ways=8, sharing=1):
    return dict(bytes=size, ways=ways, line=64, sharing=sharing)


def caches(l1d, l2, l3):
    return dict(l1d=l1d, l2=l2, l3=l3)


# (caches, itemsize, mr, nr, (mc, nc, kc)), each worked out by hand.  kc: the largest for
# which A's micro-panel (kc mr itemsize bytes) and B's (kc nr itemsize), each in whole
# ways of the L1, leave one way free; mc: A's mc x kc block in half of L2, in whole
# register tiles (mr); nc: B's kc x nc block in half of one CPU's L3 share, at most
# 8 MiB, in whole tiles (nr).
MODEL = [
    # this development machine, float32 on AVX-512 (6 x 32): 4 KiB ways; kc = 256 (the
    # cap) takes 2 ways for A (6 KiB) and 8 for B (32 KiB), 10 of 11.  mc = 512 KiB / 1 KiB
    # = 512 -> 510.  nc: 32 MiB / 2 CPUs / 2 = 8 MiB (the cap) / 1 KiB = 8192.
    (caches(level(48 * KIB, 12), level(MIB, 16), level(32 * MIB, 16, 2)), 4, 6, 32,
     (510, 8192, 256)),
    # 32 KiB 8-way L1, float32, 6 x 32: A gets 1 way (170 rows of 24 bytes), B 6 ways
    # (192 rows of 128 bytes): kc = 170; 2 + 5 ways give min(341, 160).  mc = 128 KiB /
    # 680 bytes = 192.7 -> 192.  nc = (8 MiB / 4 / 2 = 1 MiB) / 680 = 1542 -> 1536.
    (caches(level(32 * KIB), level(256 * KIB), level(8 * MIB, 16, 4)), 4, 6, 32,
     (192, 1536, 170)),
    # the same in float64, 6 x 16 (48 and 128 bytes per k): 1 + 6 ways: min(85, 192);
    # 2 + 5: min(170, 160) = 160; 3 + 4: min(256, 128).  kc = 160 (the paper's fixed
    # floor(7 / (1 + 16 / 6)) = 1 way for A would give 85).  mc = 128 KiB / 1280 = 102;
    # nc = 1 MiB / 1280 = 819 -> 816.
    (caches(level(32 * KIB), level(256 * KIB), level(8 * MIB, 16, 4)), 8, 6, 16,
     (102, 816, 160)),
    # a 2-way L1 leaves no way to spare: half of it, 8 KiB / (48 + 64) bytes per k = 73.
    # mc = 256 KiB / 584 = 448.9 -> 444; nc = 4 MiB / 584 = 7182 -> 7176.
    (caches(level(16 * KIB, 2), level(512 * KIB), level(8 * MIB)), 8, 6, 8,
     (444, 7176, 73)),
    # tiny caches: kc at least 16, mc and nc at least one register tile.
    (caches(level(KIB), level(KIB), level(KIB)), 8, 6, 16, (6, 16, 16)),
]


@pytest.mark.parametrize("given,itemsize,mr,nr,expected", MODEL)
def test_blocks_follow_the_analytical_model(given, itemsize, mr, nr, expected):
    assert _machine.blocks_for(given, itemsize, mr, nr) == expected


def test_blocks_for_refuses_impossible_caches():
    with pytest.raises(ValueError, match="l2: bytes, ways, line and sharing must be at least 1"):
        _machine.blocks_for(caches(level(KIB), level(0), level(KIB)), 8, 6, 8)
    with pytest.raises(ValueError, match="itemsize must be 4 or 8"):
        _machine.blocks_for(caches(level(KIB), level(KIB), level(KIB)), 2, 6, 8)


def test_machine_tells_the_cpu_caches_path_and_threads():
    m = runtime.machine()
    assert set(m) == {"cpu", "family", "model", "cpus", "caches", "isa", "isas", "threads"}
    assert isinstance(m["cpu"], str) and m["cpu"]
    assert isinstance(m["cpus"], int) and m["cpus"] >= 1
    if Path("/proc/cpuinfo").exists() and platform.machine() == "x86_64":
        assert isinstance(m["family"], int) and isinstance(m["model"], int)
    assert list(m["caches"]) == ["l1d", "l2", "l3"]
    for name, c in m["caches"].items():
        assert set(c) == {"bytes", "sharing", "ways", "line", "source"}, name
        for k in ("bytes", "sharing", "ways", "line"):
            assert isinstance(c[k], int) and c[k] >= 1, f"{name}: {k} = {c[k]!r}"
        assert c["line"] & (c["line"] - 1) == 0, f"{name}: a line of {c['line']} bytes"
        assert c["source"] in ("sysfs", "cpuid", "default"), c
    for itemsize in (4, 8):  # the caches the kernels' blocks are derived from
        tile = _testing.gemm_layout(f"float{8 * itemsize}")
        assert _machine.blocks_for(m["caches"], itemsize, tile["mr"], tile["nr"]) == \
            (tile["mc"], tile["nc"], tile["kc"])
    # the paths this CPU runs, slowest first: always the baseline, the one in use among them
    assert m["isas"][0] == "baseline"
    assert m["isas"] == [name for name in _kernels.ISA_NAMES if name in m["isas"]]
    assert m["isa"] in m["isas"]
    try:  # each listed path can be forced, and then is the one in use; the others cannot
        for isa in _kernels.ISA_NAMES:
            if isa in m["isas"]:
                runtime.set_isa(isa)
                assert runtime.machine()["isa"] == isa
            else:
                with pytest.raises(ValueError, match=f"cannot run the '{isa}' path"):
                    runtime.set_isa(isa)
    finally:
        runtime.set_isa(m["isa"])
    assert isinstance(m["threads"], int) and 1 <= m["threads"] <= 64
    for n in (1, 3):
        with runtime.threads(n):
            assert runtime.machine()["threads"] == n
    assert runtime.machine()["threads"] == m["threads"]


def test_describe_machine_writes_sizes_for_people():
    m = dict(cpu="Some CPU", family=25, model=None, cpus=4,
             caches=caches(dict(level(48 * KIB), source="sysfs"), dict(level(MIB), source="sysfs"),
                           dict(level(32 * MIB, sharing=8), source="default")))
    assert runtime.describe_machine(m) == [
        "cpu: Some CPU (family 25), 4 logical CPUs",
        "caches: L1d 48 KiB, L2 1 MiB, L3 32 MiB shared by 8 CPUs (4 MiB each), "
        "from default and sysfs"]


def test_info_prints_the_machine(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    for line in runtime.describe_machine(runtime.machine()):
        assert line in out.splitlines()
