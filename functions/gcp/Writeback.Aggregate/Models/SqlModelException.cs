namespace Writeback.Aggregate.Models;

/// <summary>A model or part that cannot be compiled: a missing part, a cycle, an unknown macro or dialect.</summary>
public sealed class SqlModelException : Exception
{
    public SqlModelException()
    {
    }

    public SqlModelException(string message) : base(message)
    {
    }

    public SqlModelException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
