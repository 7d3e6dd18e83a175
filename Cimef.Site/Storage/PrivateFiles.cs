using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Cimef.Site.Storage;

/// <summary>
/// Everything in the data directory (database, WAL, reports, key ring, pickup files, backups) is readable by the
/// service account only: directories 0700, files 0600 on Linux/macOS. New files get it from the process umask (077),
/// which also covers the files SQLite and the Data Protection key ring create themselves; <see cref="Restrict"/>
/// fixes up what an older version (or a copy) left with wider permissions. Windows relies on folder ACLs instead.
/// </summary>
public static class PrivateFiles
{
    public const UnixFileMode DirectoryPermissions = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    public const UnixFileMode FilePermissions = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    [UnsupportedOSPlatformGuard("windows")]
    private static bool IsUnix => !OperatingSystem.IsWindows();

    [DllImport("libc", EntryPoint = "umask")]
    private static extern uint Umask(uint mask);

    /// <summary>Sets the process umask to 077: every file and directory created from now on is private.</summary>
    public static void RestrictNewFiles()
    {
        if (IsUnix) Umask(Convert.ToUInt32("077", 8));
    }

    /// <summary>Creates a directory (and its missing parents) private.</summary>
    public static void CreateDirectory(string path)
    {
        if (IsUnix) Directory.CreateDirectory(path, DirectoryPermissions);
        else Directory.CreateDirectory(path);
    }

    /// <summary>Creates a new file, private from its first byte (fails if it exists).</summary>
    public static FileStream CreateNew(string path, int bufferSize = 4096, FileOptions options = FileOptions.None)
    {
        var o = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, BufferSize = bufferSize, Options = options };
        if (IsUnix) o.UnixCreateMode = FilePermissions;
        return new FileStream(path, o);
    }

    /// <summary>Makes a file private (0600) whatever the umask was when it was created.</summary>
    public static void RestrictFile(string path)
    {
        if (IsUnix) File.SetUnixFileMode(path, FilePermissions);
    }

    /// <summary>Sets 0700 on <paramref name="root"/> and every directory below, 0600 on every file. Symbolic links are left alone.</summary>
    public static void Restrict(string root)
    {
        if (!IsUnix || !Directory.Exists(root)) return;
        File.SetUnixFileMode(root, DirectoryPermissions);
        foreach (var entry in new DirectoryInfo(root).EnumerateFileSystemInfos("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint }))
        {
            var wanted = entry is DirectoryInfo ? DirectoryPermissions : FilePermissions;
            try
            {
                if (entry.UnixFileMode != wanted) entry.UnixFileMode = wanted;
            }
            catch (FileNotFoundException) { } // a temp file renamed or removed meanwhile (the site may be running)
            catch (DirectoryNotFoundException) { }
        }
    }
}
