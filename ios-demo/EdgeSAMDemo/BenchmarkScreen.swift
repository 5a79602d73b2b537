// Runs the library's benchmark harness on this phone (runBenchmark: the same report as
// `edgesam bench`), shows its progress, lets it be cancelled, and shows and shares its JSON.

import EdgeSAM
import SwiftUI

struct BenchmarkScreen: View {
    @State private var report: String?
    @State private var error: String?
    /// The run in progress, to cancel.
    @State private var running: Task<Void, Never>?
    @State private var percent = 0

    var body: some View {
        NavigationStack {
            VStack(alignment: .leading, spacing: 12) {
                Text("Cold start, encode and tap times on a synthetic 4000x3000 photo, 5 runs each, all cores.")
                    .font(.callout)
                    .foregroundStyle(.secondary)
                if running == nil {
                    Button {
                        run()
                    } label: {
                        Label("Run benchmark", systemImage: "speedometer")
                    }
                    .buttonStyle(.borderedProminent)
                } else {
                    ProgressView(value: Double(percent), total: 100) {
                        Text("Running… \(percent) %").monospacedDigit()
                    }
                    // The harness stops at its next step (a run can take a few seconds).
                    Button("Cancel", role: .cancel) { running?.cancel() }
                        .buttonStyle(.bordered)
                }
                if let error {
                    Text(error).foregroundStyle(.red)
                }
                if let report {
                    ScrollView {
                        Text(report)
                            .font(.system(.footnote, design: .monospaced))
                            .textSelection(.enabled)
                            .frame(maxWidth: .infinity, alignment: .leading)
                    }
                }
                Spacer()
            }
            .padding()
            .navigationTitle("Benchmark")
            .toolbar {
                if let report {
                    ShareLink(item: report, subject: Text("EdgeSAM benchmark"))
                }
            }
        }
    }

    @MainActor
    private func run() {
        error = nil
        report = nil
        percent = 0
        // Reports come from the harness's thread: hop to the main actor to show them.
        let progress = ProgressHandler { p in
            let done = percentDone(p)
            Task { @MainActor in percent = done }
        }
        running = Task { @MainActor in
            do {
                let files = try BundledModels.paths()
                report = try await runHarness(encoderPath: files.encoder, decoderPath: files.decoder,
                                              runs: 5, threads: 0, progress: progress)
            } catch is CancellationError {
                self.error = "Cancelled."
            } catch {
                self.error = describe(error)
            }
            running = nil
        }
    }
}
