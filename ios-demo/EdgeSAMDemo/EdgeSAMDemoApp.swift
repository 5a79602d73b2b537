import SwiftUI

@main
struct EdgeSAMDemoApp: App {
    @StateObject private var model = DemoModel()

    var body: some Scene {
        WindowGroup {
            TabView {
                SegmentScreen(model: model)
                    .tabItem { Label("Segment", systemImage: "hand.tap") }
                BenchmarkScreen()
                    .tabItem { Label("Benchmark", systemImage: "speedometer") }
            }
        }
    }
}
