"""deploy/kafka: the Strimzi KafkaTopic objects for the seven topics of the contract, and the
KafkaUser whose ACLs let the orchestrator read what it consumes and write what it produces. Strimzi
custom resources have no schema in kubernetes-validate: their shape is checked here.
"""

import re

import yaml

from conftest import ROOT

KAFKA = ROOT / "deploy" / "kafka"
CONSUMED = {"plans.consensus", "plans.ready", "execution.results"}
PRODUCED = {"execution.tickets", "orchestration.incidents", "telemetry.orchestration", "telemetry-flow-c"}
GROUP = "orchestrator-dynamic"


def documents(name):
    return [d for d in yaml.safe_load_all((KAFKA / name).read_text()) if d]


def contract_topics() -> set[str]:
    """The topic column of ../shared/docs/CONTRACTS.md's "Topics" table, when that file is here."""
    contracts = ROOT.parent / "shared" / "docs" / "CONTRACTS.md"
    if not contracts.exists():
        return CONSUMED | PRODUCED
    return set(re.findall(r"^\| `([a-z.-]+)` \| (?:in|out) \|", contracts.read_text(), re.M))


def test_the_expected_topics_are_the_contract_and_configuration_defaults():
    assert contract_topics() == CONSUMED | PRODUCED
    configuration = (ROOT / "docs" / "CONFIGURATION.md").read_text()
    for topic in CONSUMED | PRODUCED:
        assert f"`{topic}`" in configuration


def test_seven_kafka_topics():
    topics = documents("topics.yaml")
    assert len(topics) == 7
    names = set()
    for topic in topics:
        assert topic["apiVersion"] == "kafka.strimzi.io/v1beta2"
        assert topic["kind"] == "KafkaTopic"
        assert topic["metadata"]["labels"]["strimzi.io/cluster"]
        assert re.fullmatch(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?", topic["metadata"]["name"])
        spec = topic["spec"]
        names.add(spec.get("topicName", topic["metadata"]["name"]))
        assert isinstance(spec["partitions"], int) and spec["partitions"] >= 1
        assert isinstance(spec["replicas"], int) and spec["replicas"] >= 3
        config = spec["config"]
        assert isinstance(config["retention.ms"], int) and config["retention.ms"] > 0
        assert config["cleanup.policy"] in ("delete", "compact", "compact,delete")
        assert config["min.insync.replicas"] < spec["replicas"]
    assert names == CONSUMED | PRODUCED


def acl_operations(user) -> dict[tuple[str, str], set[str]]:
    rights: dict[tuple[str, str], set[str]] = {}
    for acl in user["spec"]["authorization"]["acls"]:
        resource = acl["resource"]
        assert resource["type"] in ("topic", "group", "cluster", "transactionalId")
        if resource["type"] != "cluster":
            assert resource.get("patternType", "literal") == "literal", "no prefix rights wider than needed"
        key = (resource["type"], resource.get("name", ""))
        rights.setdefault(key, set()).update(acl["operations"])
    return rights


def test_kafka_user_acls_cover_the_topics_and_the_group():
    (user,) = documents("user.yaml")
    assert user["apiVersion"] == "kafka.strimzi.io/v1beta2" and user["kind"] == "KafkaUser"
    assert user["metadata"]["labels"]["strimzi.io/cluster"]
    assert user["spec"]["authentication"]["type"] in ("tls", "scram-sha-512")
    assert user["spec"]["authorization"]["type"] == "simple"
    rights = acl_operations(user)
    for topic in CONSUMED:
        assert {"Read", "Describe"} <= rights[("topic", topic)], topic
        assert "Write" not in rights[("topic", topic)], f"{topic}: the orchestrator only reads it"
    for topic in PRODUCED:
        assert {"Write", "Describe"} <= rights[("topic", topic)], topic
        assert "Read" not in rights[("topic", topic)], f"{topic}: the orchestrator only writes it"
    assert "Read" in rights[("group", GROUP)]
    # nothing beyond the seven topics, the group and the idempotent-producer right
    assert set(rights) == {("topic", t) for t in CONSUMED | PRODUCED} | {("group", GROUP), ("cluster", "")}
    assert rights[("cluster", "")] == {"IdempotentWrite"}


def test_the_chart_defaults_use_the_same_names():
    values = yaml.safe_load((ROOT / "deploy" / "helm" / "orchestrator-dynamic" / "values.yaml").read_text())
    kafka = values["kafka"]
    assert set(kafka["topics"].values()) == CONSUMED | PRODUCED
    assert kafka["consumerGroupId"] == GROUP
    (user,) = documents("user.yaml")
    assert user["metadata"]["name"] == "orchestrator-dynamic"
    kustomization = yaml.safe_load((KAFKA / "kustomization.yaml").read_text())
    assert sorted(kustomization["resources"]) == ["topics.yaml", "user.yaml"]
