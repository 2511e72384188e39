/// Scratch for one recurrent layer over `steps x batch` rows, allocated once per shape.
final class LayerBuffers {
    /// `T·B x G·H`: input part of the pre-activations, then the activated gates.
    let gates: FloatBuffer
    /// `T·B x G·H`: GRU only, `h_{t−1}·W_hhᵀ + b_hh`.
    let hiddenPart: FloatBuffer?
    /// `(T+1)·B x H`: row block 0 is the carried-in state, block `t+1` the output of step `t`.
    let hidden: FloatBuffer
    /// `(T+1)·B x H`: LSTM only, the cell state, laid out as `hidden`.
    let cell: FloatBuffer?
    /// `T·B x H`: LSTM only, `tanh(c_t)`.
    let tanhCell: FloatBuffer?
    /// `T·B x H`: the dropout mask (0 or `1/(1−p)`) applied to this layer's output, when used.
    let dropoutMask: FloatBuffer?
    /// `T·B x H`: this layer's output after dropout (the next layer's input), when used.
    let dropped: FloatBuffer?
    /// `T·B x G·H`: gradient on the input part of the pre-activations (training only). The
    /// same memory as `gates`: the backward step of each cell reads a row's activated gates
    /// before it writes that row's gradient, and nothing reads the gates afterwards (10 MiB
    /// less for a 2x128 LSTM at batch 50 x 50 steps).
    let gatesGradient: FloatBuffer?
    /// `T·B x G·H`: GRU only, gradient on `hiddenPart` (training only).
    let hiddenPartGradient: FloatBuffer?
    /// `T·B x H`: gradient on this layer's output `h_t` from above (training only).
    let outputGradient: FloatBuffer?
    /// `B x H`: LSTM only, the running gradient on `c` (training only).
    let cellGradient: FloatBuffer?

    init(architecture: CellArchitecture, batch: Int, steps: Int, hidden: Int, dropout: Bool, training: Bool) {
        let rows = steps * batch
        let width = architecture.gateCount * hidden
        let isLSTM = architecture == .lstm
        let isGRU = architecture == .gru
        gates = FloatBuffer(rows * width)
        hiddenPart = isGRU ? FloatBuffer(rows * width) : nil
        self.hidden = FloatBuffer((steps + 1) * batch * hidden)
        cell = isLSTM ? FloatBuffer((steps + 1) * batch * hidden) : nil
        tanhCell = isLSTM ? FloatBuffer(rows * hidden) : nil
        dropoutMask = dropout && training ? FloatBuffer(rows * hidden) : nil
        dropped = dropout && training ? FloatBuffer(rows * hidden) : nil
        gatesGradient = training ? gates : nil
        hiddenPartGradient = training && isGRU ? FloatBuffer(rows * width) : nil
        outputGradient = training ? FloatBuffer(rows * hidden) : nil
        cellGradient = training && isLSTM ? FloatBuffer(batch * hidden) : nil
    }
}
