/// The version `ccm-lua --version` prints.
public enum CCMVersion {
    public static let current = "0.1.0"
}
