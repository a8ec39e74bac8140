"""The plan generator the tests share with `bench` reproduces docs/BENCH-WORKLOAD.md exactly."""

import pytest

import workload


@pytest.mark.parametrize(
    "shape, n, fingerprint, dependencies, longest",
    [
        ("random", 10, "2e097ca17fe18549", 13, None),
        ("random", 1000, "533722745a5130c2", 1515, 20),
        ("chain", 10, "d186804e12cb1886", 9, 10),
        ("wide", 1000, "39067fd3cab956b4", 999, 2),
    ],
)
def test_generator_fingerprints(shape, n, fingerprint, dependencies, longest):
    dag = workload.generate(shape, n, 42)
    assert dag.fingerprint == fingerprint
    assert dag.dependency_count == dependencies
    if longest is not None:
        assert dag.longest_chain == longest


def test_splitmix64_first_values():
    # Reference values of SplitMix64 seeded with 0 (Vigna's splitmix64.c).
    rng = workload.SplitMix64(0)
    assert [rng.next() for _ in range(3)] == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F]


def test_random_dag_is_acyclic_with_sorted_distinct_parents():
    dag = workload.generate("random", 500, 7)
    for i, deps in enumerate(dag.dependencies):
        assert deps == sorted(set(deps))
        assert all(0 <= d < i for d in deps)
        assert len(deps) <= 3
    plan = workload.dag_plan("p", dag)
    assert workload.topological_order(plan["tasks"])[0] == "task-0"
