#!/usr/bin/env python3
"""A sorter PLC played by pymodbus, laid out by a floorctl map file.

Usage: pymodbus_plc.py MAP PORT

It serves the map's registers over Modbus TCP on 127.0.0.1:PORT, keeps its heartbeat going,
takes PackML Reset and Start, and once executing shows one tote (4242) at the induct. When the
controller diverts it, the PLC acknowledges the divert and reports the tote sorted into the
commanded chute; when the controller acknowledges that result it prints what it saw as one JSON
line on stdout. It then keeps serving until killed.
"""

import asyncio
import json
import sys
import tomllib

from pymodbus.datastore import (
    ModbusSequentialDataBlock,
    ModbusServerContext,
    ModbusSlaveContext,
)
from pymodbus.server import StartAsyncTcpServer

FC = {"coil": 1, "discrete_input": 2, "holding_register": 3, "input_register": 4}
WIDE = {"u32", "i32", "f32"}
TOTE = 4242


def main():
    map_path, port = sys.argv[1], int(sys.argv[2])
    with open(map_path, "rb") as f:
        m = tomllib.load(f)
    base = m.get("address_base", 0)
    order = m.get("word_order", "ABCD")
    signals = {
        name: (FC[s["table"]], s["address"] - base, s["type"]) for name, s in m["signals"].items()
    }
    block = lambda: ModbusSequentialDataBlock(0, [0] * 400)
    device = ModbusSlaveContext(di=block(), co=block(), hr=block(), ir=block())
    context = ModbusServerContext(slaves=device, single=True)

    def get(name):
        fc, addr, ty = signals[name]
        if ty in WIDE:
            a, b = device.getValues(fc, addr, 2)
            hi, lo = (b, a) if order in ("CDAB", "DCBA") else (a, b)
            return (hi << 16) | lo
        return device.getValues(fc, addr, 1)[0]

    def put(name, value):
        fc, addr, ty = signals[name]
        if ty in WIDE:
            hi, lo = (value >> 16) & 0xFFFF, value & 0xFFFF
            device.setValues(fc, addr, [lo, hi] if order in ("CDAB", "DCBA") else [hi, lo])
        else:
            device.setValues(fc, addr, [value & 0xFFFF])

    pk = m["packml"]
    states = pk["states"]
    commands = {v: k for k, v in pk["commands"].items()}
    moves = {("Stopped", "Reset"): "Idle", ("Idle", "Start"): "Execute"}

    async def plc():
        beat, state, last_seq, phase, seen = 0, "Stopped", 0, "starting", {"commands": []}
        while True:
            await asyncio.sleep(0.02)
            beat = (beat + 1) & 0xFFFF or 1
            put("plc_heartbeat", beat)
            seq = get(pk["command_seq"])
            if seq != last_seq:
                last_seq = seq
                cmd = commands.get(get(pk["command"]))
                seen["commands"].append(cmd)
                state = moves.get((state, cmd), state)
                put(pk["command_ack_seq"], seq)
            put(pk["state"], states[state])
            if phase == "starting" and state == "Execute":
                put("induct_tote", TOTE)
                put("induct_seq", 1)
                phase = "inducted"
            elif phase == "inducted" and get("divert_seq") == 1:
                seen["divert"] = {"tote": get("divert_tote"), "chute": get("divert_chute")}
                put("divert_ack_seq", 1)
                put("confirm_tote", TOTE)
                put("confirm_chute", get("divert_chute"))
                put("confirm_outcome", 1)
                put("confirm_seq", 1)
                phase = "sorted"
            elif phase == "sorted" and get("confirm_ack_seq") == 1:
                seen["controller_heartbeat"] = get("ctl_heartbeat")
                print(json.dumps(seen), flush=True)
                phase = "done"

    async def run():
        await asyncio.gather(
            StartAsyncTcpServer(context=context, address=("127.0.0.1", port)), plc()
        )

    asyncio.run(run())


if __name__ == "__main__":
    main()
