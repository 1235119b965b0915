"""A step barrier for the engine's threads.

numba has no atomics, so the two operations a barrier needs are written as
LLVM atomics: a release store of "I finished step s" and an acquire load of
the other threads' counters. Release/acquire orders every plain load and store
around them (the spike rings, the monitors, the stop flags), on any CPU, and
keeps LLVM from hoisting the load out of the spin loop.
"""
from __future__ import annotations

from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

#: int64 slots between two threads' counters: one 64-byte cache line each
STRIDE = 8
#: spins before a waiting thread gives up its core (the machine may have fewer
#: free cores than threads: then spinning would only delay the one it waits for)
SPINS_BEFORE_YIELD = 2000


def _item_pointer(context, builder, sig, args):
    ary = context.make_array(sig.args[0])(context, builder, args[0])
    return cgutils.get_item_pointer(context, builder, sig.args[0], ary, [args[1]])


@intrinsic
def load_acquire(typingctx, arr, index):
    def codegen(context, builder, sig, args):
        return builder.load_atomic(_item_pointer(context, builder, sig, args), "acquire", 8)
    return types.int64(arr, index), codegen


@intrinsic
def store_release(typingctx, arr, index, value):
    def codegen(context, builder, sig, args):
        builder.store_atomic(args[2], _item_pointer(context, builder, sig, args), "release", 8)
        return context.get_dummy_value()
    return types.void(arr, index, types.int64), codegen


@intrinsic
def sched_yield(typingctx):
    def codegen(context, builder, sig, args):
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.IntType(32), []),
                                            "sched_yield")
        builder.call(fn, [])
        return context.get_dummy_value()
    return types.void(), codegen


@njit(nogil=True, cache=True)
def barrier(arrive, tid, nthreads, target):
    """Announce that thread ``tid`` reached ``target`` (a count that only grows:
    the step just finished + 1), then wait until every thread has."""
    store_release(arrive, tid * STRIDE, target)
    for other in range(nthreads):
        spins = 0
        while load_acquire(arrive, other * STRIDE) < target:
            spins += 1
            if spins > SPINS_BEFORE_YIELD:
                sched_yield()
