import { MemoryThreadStore } from "../../src/store/memory.js";
import { storeContract } from "./contract.js";

storeContract("memory", async () => ({ store: new MemoryThreadStore(), cleanup: async () => {} }));
