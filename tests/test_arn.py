import pytest

from authorizer.event.arn import ArnError, parse_arn


def test_rest_arn_parts():
    arn = parse_arn("arn:aws:execute-api:us-west-2:123456789012:ymy8tbxw7b/prod/GET/pets/42")
    assert (arn.partition, arn.region, arn.account, arn.api, arn.stage) == (
        "aws",
        "us-west-2",
        "123456789012",
        "ymy8tbxw7b",
        "prod",
    )
    assert (arn.method, arn.path, arn.route) == ("GET", "/pets/42", "GET /pets/42")
    assert arn.prefix == "arn:aws:execute-api:us-west-2:123456789012:ymy8tbxw7b"


@pytest.mark.parametrize("partition", ["aws-cn", "aws-us-gov"])
def test_other_partitions_are_kept(partition):
    arn = parse_arn(f"arn:{partition}:execute-api:cn-north-1:123456789012:abc/prod/GET/x")
    assert arn.partition == partition
    assert arn.stage_resource() == f"arn:{partition}:execute-api:cn-north-1:123456789012:abc/prod/*"


def test_colons_in_path_only_first_five_split():
    arn = parse_arn("arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/things/urn:isbn:0451450523")
    assert arn.path == "/things/urn:isbn:0451450523"


def test_root_resource_has_trailing_slash():
    arn = parse_arn("arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/")
    assert (arn.method, arn.path) == ("GET", "/")


def test_trailing_slash_and_proxy_kept():
    assert parse_arn("arn:aws:execute-api:r:1:a/s/GET/pets/").path == "/pets/"
    assert parse_arn("arn:aws:execute-api:r:1:a/s/POST/{proxy+}").path == "/{proxy+}"


def test_websocket_connect():
    arn = parse_arn("arn:aws:execute-api:eu-west-1:111122223333:w5s0ck3t01/beta/$connect")
    assert (arn.method, arn.path, arn.route) == ("", "$connect", "$connect")
    assert arn.route_resource("", "$connect") == "arn:aws:execute-api:eu-west-1:111122223333:w5s0ck3t01/beta/$connect"


def test_http_v2_default_stage_is_literal():
    arn = parse_arn("arn:aws:execute-api:us-east-1:123456789012:abcdef123/$default/GET/pets")
    assert arn.stage == "$default"


def test_route_resource_uses_iam_path():
    arn = parse_arn("arn:aws:execute-api:us-east-1:1:a/prod/GET/pets/1")
    assert arn.route_resource("*", "/pets/*") == "arn:aws:execute-api:us-east-1:1:a/prod/*/pets/*"


@pytest.mark.parametrize(
    "bad",
    [
        None,
        42,
        "",
        "arn:aws:lambda:us-east-1:1:function/x",
        "arn:aws:execute-api:us-east-1:1",
        "arn:aws:execute-api::1:a/s/GET/x",
        "arn:aws:execute-api:r:1:a",
        "arn:aws:execute-api:r:1:a/s",
        "arn:{{{partition}}}:execute-api:{{{region}}}:{{{account_id}}}:x/s/GET/",
        "nope:aws:execute-api:r:1:a/s/GET/",
    ],
)
def test_bad_arns_are_refused(bad):
    with pytest.raises(ArnError):
        parse_arn(bad)
