// Runs the library's benchmark harness on this phone (runBenchmark: the same report as
// `edgesam bench`) and shows and shares its JSON.

import SwiftUI

struct BenchmarkScreen: View {
    @State private var report: String?
    @State private var error: String?
    @State private var running = false

    var body: some View {
        NavigationStack {
            VStack(alignment: .leading, spacing: 12) {
                Text("Cold start, encode and tap times on a synthetic 4000x3000 photo, 5 runs each, all cores.")
                    .font(.callout)
                    .foregroundStyle(.secondary)
                Button {
                    run()
                } label: {
                    Label(running ? "Running…" : "Run benchmark", systemImage: "speedometer")
                }
                .buttonStyle(.borderedProminent)
                .disabled(running)
                if running {
                    ProgressView()
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

    private func run() {
        running = true
        error = nil
        Task {
            do {
                let files = try BundledModels.paths()
                report = try await runHarness(encoderPath: files.encoder, decoderPath: files.decoder,
                                              runs: 5, threads: 0)
            } catch {
                self.error = describe(error)
            }
            running = false
        }
    }
}
