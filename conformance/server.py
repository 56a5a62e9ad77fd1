"""The server harness: the implementation's loop in its own thread, servers per check.

Rules of this module:

1. The implementation's loop runs in one thread of its own ("conformance-impl-loop");
   the kit talks to it only through `Implementation.call_soon_threadsafe` and waits
   for answers with a deadline, so a deadlocked implementation yields a verdict
   (`LoopUnresponsive`), never a hang.
2. A loop that failed to answer is *wedged*: it is abandoned (its thread is a daemon)
   and the next check gets a fresh loop, so one blocked check cannot fail the rest. Nor
   slow them: a wedged loop still running Python (an implementation's busy loop) would
   keep taking the CPU and the GIL from every later check (Tornado 4.5.3 spinning on a
   negative chunk size made each later check ten times slower), so an exception raised in
   its thread ends it (`LoopThread.stop`).
3. Log records emitted on the loop thread, and exceptions the loop reports, are
   captured into the current check's `ServerLog`.
"""

from __future__ import annotations

import concurrent.futures
import inspect
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from .errors import LoopUnresponsive
from .impl import Implementation, Listening


@dataclass
class ServerLog:
    """What the implementation logged (WARNING and above) during one check."""

    records: list[logging.LogRecord] = field(default_factory=list)

    def unhandled_exceptions(self) -> list[logging.LogRecord]:
        """Records that carry a traceback: exceptions the implementation did not handle."""
        return [r for r in self.records if r.exc_info]

    def format(self, records: list[logging.LogRecord] | None = None) -> str:
        formatter = logging.Formatter("%(levelname)s %(name)s: %(message)s")
        shown = self.records if records is None else records
        return "\n".join(formatter.format(r) for r in shown) or "(nothing logged)"


class _ThreadLogHandler(logging.Handler):
    """Sends the records of one thread to the sink that is current."""

    def __init__(self, thread_ident: int) -> None:
        super().__init__(level=logging.WARNING)
        self.thread_ident = thread_ident
        self.sink: ServerLog | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread_ident and self.sink is not None:
            self.sink.records.append(record)


class _Abandoned(SystemExit):
    """Raised in a wedged loop's thread to end it (rule 2). A SystemExit, so that asyncio's
    callbacks and tasks, and Tornado's, pass it on instead of reporting it as the
    implementation's unhandled error."""


class LoopThread:
    """The implementation's event loop, running in a thread of its own."""

    def __init__(self, impl: Implementation, timeout: float) -> None:
        self.impl = impl
        self.timeout = timeout
        self.wedged = False
        self._ready = threading.Event()
        self._done = threading.Event()
        self._startup_error: BaseException | None = None
        self._abandoned = False
        self.loop: Any = None
        self.thread = threading.Thread(target=self._main, name="conformance-impl-loop", daemon=True)
        self.log_handler: _ThreadLogHandler | None = None

    def start(self) -> LoopThread:
        self.thread.start()
        if not self._ready.wait(self.timeout):
            self.wedged = True
            raise LoopUnresponsive(f"{self.impl.name}: creating the event loop did not finish within {self.timeout:g}s")
        if self._startup_error is not None:
            raise self._startup_error
        assert self.thread.ident is not None
        self.log_handler = _ThreadLogHandler(self.thread.ident)
        logging.getLogger().addHandler(self.log_handler)
        return self

    def _main(self) -> None:
        try:
            self._run()
        except _Abandoned:
            pass  # ended by stop() after it was wedged: nothing waits for this loop any more

    def _run(self) -> None:
        try:
            self.loop = self.impl.new_loop()
            aloop = getattr(self.loop, "asyncio_loop", None)
            if aloop is not None:
                aloop.set_exception_handler(self._asyncio_exception)
        except BaseException as exc:
            self._startup_error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            self.impl.run_loop(self.loop)
        finally:
            try:
                self.impl.close_loop(self.loop)
            except Exception:
                if not self._abandoned:
                    raise
                # an interrupted loop may not close cleanly; it is released with its thread
            finally:
                self._done.set()

    def _asyncio_exception(self, aloop: Any, context: dict[str, Any]) -> None:
        # asyncio reports unhandled exceptions here; route them to logging so they land in
        # the check's ServerLog like any other error.
        exc = context.get("exception")
        if isinstance(exc, _Abandoned):
            return  # the kit ended this abandoned loop (rule 2): not the implementation's error
        message = str(context.get("message", "unhandled exception in event loop"))
        if "never retrieved" in message:
            # "Future/Task exception was never retrieved" comes from the future's
            # finaliser, whenever the garbage collector reaches it: often during a later
            # check. Logged for the record, without its traceback, so that no check counts
            # it as its own unhandled exception (a false alarm in an unrelated check).
            logging.getLogger("conformance.loop").warning(
                "%s: %r (reported when the future was garbage-collected; it may come from an earlier check)",
                message,
                exc,
            )
            return
        logging.getLogger("conformance.loop").error(
            "%s",
            message,
            exc_info=(type(exc), exc, exc.__traceback__) if exc is not None else None,
        )

    def call(self, fn: Callable[..., Any], *args: Any, timeout: float | None = None, what: str | None = None) -> Any:
        """Run ``fn(*args)`` on the loop; if it returns an awaitable, wait for that too.

        Returns what ``fn`` returned (or its awaitable's result) and re-raises what it raised.

        Raises:
            LoopUnresponsive: when no answer came within the deadline; the loop is then
                marked wedged.
        """
        if self.wedged:
            raise LoopUnresponsive(f"{self.impl.name}'s event loop is wedged by an earlier check")
        deadline = self.timeout if timeout is None else timeout
        result: concurrent.futures.Future[Any] = concurrent.futures.Future()

        async def runner() -> None:
            try:
                value = fn(*args)
                if inspect.isawaitable(value):
                    value = await value
            except _Abandoned:
                raise  # stop() ends this thread (rule 2): no one waits for this result
            except BaseException as exc:
                result.set_exception(exc)
            else:
                result.set_result(value)

        def start() -> Any:
            return runner()

        self.impl.call_soon_threadsafe(self.loop, start)
        try:
            return result.result(deadline)
        except concurrent.futures.TimeoutError:
            self.wedged = True
            raise LoopUnresponsive(
                f"{self.impl.name}'s event loop did not finish {what or getattr(fn, '__name__', 'a call')} "
                f"within {deadline:g}s: the loop is blocked or the operation never completes"
            ) from None

    def barrier(self) -> None:
        """Return once every callback scheduled on the loop before this call has run.

        This relies on the loop running thread-safe callbacks in FIFO order (asyncio and
        Tornado do); checks that judge callback order must not rely on it.
        """
        self.call(lambda: None, what="a barrier callback")

    @contextmanager
    def capture(self, sink: ServerLog) -> Iterator[ServerLog]:
        assert self.log_handler is not None
        self.log_handler.sink = sink
        try:
            yield sink
        finally:
            self.log_handler.sink = None

    def stop(self) -> None:
        if self.log_handler is not None:
            logging.getLogger().removeHandler(self.log_handler)
        if not self.thread.is_alive():
            return
        if self.wedged:
            self._interrupt()
            return
        self.impl.call_soon_threadsafe(self.loop, lambda: self.impl.stop_loop(self.loop))
        self._done.wait(self.timeout)
        self.thread.join(self.timeout)

    def _interrupt(self) -> None:
        """Rule 2: end a wedged loop's thread, if it still runs Python, with `_Abandoned`.

        CPython raises it in that thread at its next bytecode (``PyThreadState_SetAsyncExc``,
        as a debugger does); a thread blocked in C code gets it when it comes back, and one
        that never does stays a sleeping daemon. Elsewhere (no ``ctypes.pythonapi``) the
        thread is only abandoned, as before. Nothing waits for it to end."""
        import ctypes

        ident = self.thread.ident
        set_async_exc = getattr(getattr(ctypes, "pythonapi", None), "PyThreadState_SetAsyncExc", None)
        if ident is None or set_async_exc is None:
            return
        self._abandoned = True
        set_async_exc.argtypes = (ctypes.c_ulong, ctypes.py_object)
        set_async_exc(ident, _Abandoned)


class Server:
    """Per-check access to the implementation's servers and loop.

    Example::

        def test_x(server, impl):
            web = impl.part("web")
            class Hello(web.RequestHandler):
                def get(self): self.write("hi")
            srv = server.serve([("/", Hello)])
            ...  # connect to srv.host, srv.port
    """

    def __init__(self, loop: LoopThread, log: ServerLog) -> None:
        self.loop = loop
        self.log = log
        self._listening: list[Listening] = []

    def serve(self, handlers: list[Any], settings: dict[str, Any] | None = None, **server_kwargs: Any) -> Listening:
        """Start an application for this check; it is stopped when the check ends."""
        listening: Listening = self.loop.call(
            self.loop.impl.listen, list(handlers), dict(settings or {}), server_kwargs, what="starting a server"
        )
        self._listening.append(listening)
        return listening

    def call(self, fn: Callable[..., Any], *args: Any, timeout: float | None = None) -> Any:
        """Run ``fn(*args)`` on the implementation's loop (awaiting what it returns)."""
        return self.loop.call(fn, *args, timeout=timeout)

    def barrier(self) -> None:
        self.loop.barrier()

    def close(self) -> None:
        while self._listening:
            listening = self._listening.pop()
            if not self.loop.wedged:
                try:
                    self.loop.call(listening.stop, what="stopping the server")
                except LoopUnresponsive:
                    pass
