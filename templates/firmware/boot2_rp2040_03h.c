/* tinykiln RP2040 second boot stage ("boot2"), assembled by tinykiln (compiler/boot2.py), which
 * pads the code to 252 bytes and appends the CRC-32 the bootrom checks; the firmware carries the
 * 256 bytes as the array tk_boot2 at the start of flash. Register map: RP2040 datasheet, XIP SSI
 * (Synopsys DW_apb_ssi at 0x18000000) and Cortex-M0+ VTOR.
 *
 * The bootrom copies these 256 bytes to SRAM, checks them and runs them with the SSI disabled
 * for XIP. This code sets the SSI up for execute-in-place with plain serial 03h reads (24-bit
 * address, 32 data bits per access): slow, but every SPI NOR flash answers them. Then it points
 * VTOR at the image's vector table (flash + 0x100, right after this stage), loads the initial
 * stack pointer and jumps to the reset handler. Position-independent: pc-relative literals only,
 * no stack. */

__asm__(
    ".syntax unified\n"
    ".thumb\n"
    ".section .text.tk_boot2, \"ax\"\n"
    ".global tk_boot2_entry\n"
    ".thumb_func\n"
    "tk_boot2_entry:\n"
    "    ldr   r3, =0x18000000\n"   /* XIP_SSI base */
    "    movs  r0, #0\n"
    "    str   r0, [r3, #0x08]\n"   /* SSIENR = 0: the SSI takes a new setup only while disabled */
    "    movs  r1, #4\n"
    "    str   r1, [r3, #0x14]\n"   /* BAUDR = 4: SCK = clk_sys / 4 (an even divider) */
    "    ldr   r1, =0x001f0300\n"   /* CTRLR0: SPI_FRF = 0 standard 1-bit frames, DFS_32 = 31 */
    "    str   r1, [r3, #0x00]\n"   /*   (32 clocks per data frame), TMOD = 3 EEPROM read */
    "    ldr   r1, =0x03000218\n"   /* SPI_CTRLR0: XIP_CMD = 0x03 (read), INST_L = 2 (8-bit */
    "    movs  r2, #0xf4\n"         /*   instruction), ADDR_L = 6 (24-bit address), */
    "    str   r1, [r3, r2]\n"      /*   TRANS_TYPE = 0 (instruction and address serial) */
    "    str   r0, [r3, #0x04]\n"   /* CTRLR1 = 0: NDF = 0, one data frame per access */
    "    movs  r1, #1\n"
    "    str   r1, [r3, #0x08]\n"   /* SSIENR = 1: flash now reads through the XIP window */
    "    ldr   r0, =0x10000100\n"   /* the image's vector table: flash + 0x100 */
    "    ldr   r1, =0xe000ed08\n"   /* VTOR */
    "    str   r0, [r1]\n"
    "    ldmia r0!, {r1, r2}\n"     /* r1 = initial stack pointer, r2 = reset handler */
    "    msr   msp, r1\n"
    "    bx    r2\n"
    ".ltorg\n");
