"""Guards on the private parts of libraries that pixtag overrides or calls.

Each override is pinned by an upper bound on its library in pyproject.toml;
these tests fail loudly, naming the internal, when a version inside those
bounds changes what pixtag relies on, instead of letting it break quietly.
"""

import ast
import inspect
import textwrap

import aiopg
from aiohttp import web, web_urldispatcher
from aiohttp.web_protocol import RequestHandler
from aiohttp_pydantic import PydanticView
from aiohttp_pydantic.oas import cmd

from pixtag.db.lightpool import LightPool
from pixtag.views.stream import _Stream


def names_in(function: object) -> set[str]:
    """Every attribute and global name a function's source uses."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))  # type: ignore[arg-type]
    return {
        node.attr if isinstance(node, ast.Attribute) else node.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute | ast.Name)
    }


def test_aiopg_pool_keeps_the_state_the_light_pool_shares_with_it():
    # LightPool hands out and takes back connections with aiopg's own bookkeeping.
    init = names_in(aiopg.Pool.__init__)
    assert {"_free", "_used", "_cond", "_closing", "_recycle", "_loop"} <= init
    assert {"_fill_free_pool", "_acquire", "release", "close"} <= set(vars(aiopg.Pool))
    assert {"_fill_free_pool", "_free", "_used", "_cond"} <= names_in(aiopg.Pool._acquire)
    assert issubclass(LightPool, aiopg.Pool)


def test_aiohttp_runner_builds_its_server_in_make_server_with_these_attributes():
    # ProblemAppRunner replaces the server _make_server builds with one of the same arguments.
    assert "_make_server" in vars(web.AppRunner)
    server_init = inspect.signature(web.Server.__init__).parameters
    assert {"handler", "request_factory", "handler_cancellation", "loop"} <= set(server_init)
    assert {"_kwargs", "_loop"} <= names_in(web.Server.__init__)
    assert "handle_error" in vars(RequestHandler)
    assert list(inspect.signature(RequestHandler.handle_error).parameters) == [
        "self",
        "request",
        "status",
        "exc",
        "message",
    ]


def test_aiohttp_stream_response_still_reads_send_headers_immediately():
    # The listing's headers go out with its first rows (views.stream._Stream).
    assert hasattr(web.StreamResponse, "_send_headers_immediately")
    assert "_send_headers_immediately" in names_in(web.StreamResponse._write_headers)
    assert _Stream._send_headers_immediately is False


def test_aiohttp_default_expect_handler_is_still_there():
    # Uploads answer an oversized Expect: 100-continue themselves, else defer to it.
    handler = web_urldispatcher._default_expect_handler
    assert inspect.iscoroutinefunction(handler)
    assert list(inspect.signature(handler).parameters) == ["request"]


def test_aiohttp_pydantic_dispatches_through_iter():
    # ProblemView._iter refuses unknown query parameters before the library's dispatch.
    assert "_iter" in vars(PydanticView)
    assert "_iter" in names_in(PydanticView.__await__)


def test_aiohttp_pydantic_command_looks_generate_oas_up_by_its_module_name():
    # pixtag.openapi.setup gives the command the finished document by binding this name.
    assert "generate_oas" in names_in(cmd.show_oas)
    assert "generate_oas" in vars(cmd)
